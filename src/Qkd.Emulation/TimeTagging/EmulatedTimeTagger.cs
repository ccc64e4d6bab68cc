using System.Numerics;
using Qkd.Core;
using Qkd.Core.Random;
using Qkd.Core.TimeTags;

namespace Qkd.Emulation.TimeTagging;

/// <summary>
/// The time tagger at Bob, emulated: turns an <see cref="EmulatedLink"/>'s clicks into the tag stream a real tagger
/// delivers. Each detector that fired gives one <see cref="TimeTagKind.Rising"/> tag on channel
/// <c>FirstDetectorChannel + detector</c> at the click's time (Bob's clock: offset, drift, fibre delay and detector
/// jitter are already in it) plus that input's cable delay. The sync input carries Alice's clock divided by
/// <c>SyncDivider</c>: the k-th sync tag marks pulse <c>k * SyncDivider</c> (so the first sync tag is pulse 0), at that
/// pulse's emission time mapped through the same Bob clock (offset and drift, no fibre) plus the sync path's delay and
/// Gaussian jitter. Optional free-running dark counts land at uniformly random times.
/// </summary>
/// <remarks>
/// <para>Ordering. Tags leave in non-decreasing time order. Sync tags and free-running dark counts are generated in time
/// order and merged lazily; detector tags are not (jitter can swap neighbours and cable delays differ per input), so
/// they wait in a small sorted reorder buffer until no later click can precede them: a click at a pulse the link has
/// not emulated yet arrives no earlier than that pulse's nominal time, minus 10 RMS of jitter, plus the smallest cable
/// delay. A tag that would still come out of order (a jitter beyond 10 sigma) is clamped to the last time sent and
/// counted in <see cref="OrderClamps"/>.</para>
/// <para>Ground truth. <see cref="Read(Span{TimeTag}, Span{TimeTagTruth}, CancellationToken)"/> also writes, for every
/// tag, the pulse it belongs to and what produced it, for tests; the plain <see cref="Read(Span{TimeTag}, CancellationToken)"/>
/// skips that. Neither allocates.</para>
/// <para>An active receiver is supported when its link measures in Bob's own settings (<see cref="EmulatedLink.BobSettings"/>):
/// then the basis-marker input (<see cref="EmulatedTimeTaggerOptions.BasisMarkerChannel"/>) gets one tag at the slot
/// where Bob's pattern starts, at that slot's light arrival plus the marker delay, and Bob knows every click's basis
/// from his choices. A link that draws the settings itself is refused: nothing in the tags would tell Bob the basis.</para>
/// <para>Deterministic from (link, options, seed). Not thread-safe; one reader.</para>
/// </remarks>
public sealed class EmulatedTimeTagger : ITimeTagSource
{
    private const int ClickBatch = 1024;
    private const double JitterGuardSigmas = 10;

    /// <summary>Pulses the link is emulated over per pull at most (2^24: 17 ms of light at 1 GHz).</summary>
    private const long PullPulses = 1L << 24;

    private readonly EmulatedLink _link;
    private readonly BobClock _detectorClock;
    private readonly BobClock _syncClock;
    private readonly Xoshiro256StarStar _syncRandom;
    private readonly Xoshiro256StarStar _darkRandom;
    private readonly long[] _delays;
    private readonly ushort[] _channels;
    private readonly long _minDelay;
    private readonly long _jitterGuardPs;
    private readonly DetectorClick[] _clicks = new DetectorClick[ClickBatch];
    private readonly long _endPulse;
    private readonly int _syncDivider;
    private readonly ushort _syncChannel;
    private readonly long _syncDelayPs;
    private readonly double _syncJitterRmsPs;
    private readonly double _darkMeanGapPs;
    private readonly long _darkEndTime;

    private PendingTag[] _pending;
    private int _head;
    private int _tail;
    private long _horizon = long.MinValue;
    private long _nextSyncPulse;
    private long _nextSyncTime;
    private long _nextDarkTime = long.MaxValue;
    private double _nextDarkFraction;
    private ushort _nextDarkChannel;
    private long _lastTime = long.MinValue;
    private long _markerTime = long.MaxValue;
    private readonly long _markerPulse;
    private readonly ushort _markerChannel;

    /// <param name="link">A fresh link (nothing emitted yet); the tagger drives it from pulse 0.</param>
    /// <param name="options">Channel wiring, delays, sync and noise; validated here.</param>
    /// <param name="seed">Seed of the tagger's own randomness (sync jitter, free-running dark counts).</param>
    /// <exception cref="ArgumentException">The link uses an active receiver, was already used, or the options are invalid.</exception>
    public EmulatedTimeTagger(EmulatedLink link, EmulatedTimeTaggerOptions options, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(link);
        ArgumentNullException.ThrowIfNull(options);
        if (link.Layout != ReceiverLayout.PassiveFourDetector && link.BobSettings is null)
            throw new ArgumentException(
                $"The emulated time tagger needs an {link.Layout} link that measures in Bob's own basis settings (the link draws them itself, so the tag stream could not tell Bob the basis).",
                nameof(link));
        if (link.PulsesEmitted != 0)
            throw new ArgumentException("The link has already emitted clicks; the tagger must start it at pulse 0, where the first sync tag is.", nameof(link));
        LinkProfile profile = link.Profile;
        int detectors = profile.DetectorCount;
        options.Validate(detectors, link.Light.PulsePeriodPs);

        _link = link;
        Options = options;
        _detectorClock = new BobClock(profile, link.Light.PulseRateHz);
        // Sync marks the emission time: the same clock (offset, drift) without the fibre.
        _syncClock = new BobClock(profile with { FibreLengthKm = 0 }, link.Light.PulseRateHz);
        _syncRandom = Xoshiro256StarStar.ForStream(seed, "tagger/sync");
        _darkRandom = Xoshiro256StarStar.ForStream(seed, "tagger/dark");
        _delays = new long[detectors];
        _channels = new ushort[detectors];
        for (int d = 0; d < detectors; d++)
        {
            _delays[d] = options.DetectorDelayPs(d);
            _channels[d] = (ushort)(options.FirstDetectorChannel + d);
        }
        _minDelay = _delays.Min();
        _jitterGuardPs = (long)Math.Ceiling(JitterGuardSigmas * profile.TimingJitterRmsPs) + 2;
        _pending = new PendingTag[ClickBatch * detectors + 64];
        _endPulse = options.EndPulse;
        _syncDivider = options.SyncDivider;
        _syncChannel = options.SyncChannel;
        _syncDelayPs = options.SyncDelayPs;
        _syncJitterRmsPs = options.SyncJitterRmsPs;

        _nextSyncPulse = 0;
        _nextSyncTime = _endPulse > 0 ? SyncTimeOf(0) : long.MaxValue;
        if (link.BobSettings is { } bob && options.BasisMarkerChannel is ushort markerChannel && bob.PatternStartPulse < _endPulse)
        {
            _markerPulse = bob.PatternStartPulse;
            _markerChannel = markerChannel;
            _markerTime = _detectorClock.TimeAt(_markerPulse, 0) + options.BasisMarkerDelayPs;
        }

        // Times past ~4e18 ps (46 days) are out of reach: such an end is "for ever".
        bool endReachable = _endPulse < 4e18 / (link.Light.PulsePeriodPs * 1.001);
        _darkEndTime = endReachable ? _detectorClock.TimeAt(_endPulse, 0) : long.MaxValue;
        if (options.DarkCountRateHz > 0 && _endPulse > 0)
        {
            _darkMeanGapPs = Units.PicosecondsPerSecond / (options.DarkCountRateHz * detectors);
            _nextDarkTime = _detectorClock.TimeAt(0, 0);
            AdvanceDark();
        }
    }

    public string Name => "emulated tagger";

    public EmulatedTimeTaggerOptions Options { get; }

    /// <summary>The link whose clicks this tagger stamps.</summary>
    public EmulatedLink Link => _link;

    /// <summary>Tags written so far.</summary>
    public long TagsEmitted { get; private set; }

    /// <summary>Sync tags written so far.</summary>
    public long SyncTags { get; private set; }

    /// <summary>Detector tags from the link's clicks written so far (one per detector firing).</summary>
    public long DetectionTags { get; private set; }

    /// <summary>Basis-marker tags written so far (0 or 1).</summary>
    public long MarkerTags { get; private set; }

    /// <summary>Free-running dark-count tags written so far.</summary>
    public long FreeRunningDarkCountTags { get; private set; }

    /// <summary>Detector tags whose jitter exceeded the reorder guard and were clamped to keep the order (expected: 0).</summary>
    public long OrderClamps { get; private set; }

    /// <inheritdoc />
    public int Read(Span<TimeTag> destination, CancellationToken cancellationToken = default) =>
        ReadCore(destination, default, withTruth: false, cancellationToken);

    /// <summary>
    /// As <see cref="Read(Span{TimeTag}, CancellationToken)"/>, and writes each tag's ground truth at the same index of
    /// <paramref name="truth"/>, which must be at least as long as <paramref name="destination"/>.
    /// </summary>
    public int Read(Span<TimeTag> destination, Span<TimeTagTruth> truth, CancellationToken cancellationToken = default)
    {
        if (truth.Length < destination.Length)
            throw new ArgumentException($"The truth span holds {truth.Length} entries, fewer than the {destination.Length} tags asked for.", nameof(truth));
        return ReadCore(destination, truth, withTruth: true, cancellationToken);
    }

    private int ReadCore(Span<TimeTag> destination, Span<TimeTagTruth> truth, bool withTruth, CancellationToken cancellationToken)
    {
        int written = 0;
        long syncs = 0, detections = 0, darks = 0;
        while (written < destination.Length)
        {
            long detectionTime = _head < _tail ? _pending[_head].TimePs : long.MaxValue;
            long syncTime = _nextSyncTime;
            long darkTime = _nextDarkTime;
            long time = Math.Min(Math.Min(detectionTime, _markerTime), Math.Min(syncTime, darkTime));
            if (time > _horizon)
            {
                // Past the horizon a click not yet emulated could come first: emulate more. (Once the link is done the
                // horizon is infinite and the end of the stream is the MaxValue check below.)
                cancellationToken.ThrowIfCancellationRequested();
                PullClicks();
                continue;
            }
            if (time == long.MaxValue) break;

            if (_markerTime == time)
            {
                destination[written] = new TimeTag(time, _markerChannel);
                if (withTruth) truth[written] = new TimeTagTruth(_markerPulse, TimeTagOrigin.BasisMarker);
                _markerTime = long.MaxValue;
                MarkerTags++;
            }
            else if (syncTime == time)
            {
                destination[written] = new TimeTag(time, _syncChannel);
                if (withTruth) truth[written] = new TimeTagTruth(_nextSyncPulse, TimeTagOrigin.Sync);
                AdvanceSync();
                syncs++;
            }
            else if (detectionTime == time)
            {
                ref readonly PendingTag tag = ref _pending[_head++];
                destination[written] = new TimeTag(time, tag.Channel);
                if (withTruth) truth[written] = new TimeTagTruth(tag.Pulse, TimeTagOrigin.Detection);
                detections++;
            }
            else
            {
                destination[written] = new TimeTag(time, _nextDarkChannel);
                if (withTruth) truth[written] = new TimeTagTruth(-1, TimeTagOrigin.FreeRunningDarkCount);
                AdvanceDark();
                darks++;
            }
            _lastTime = time;
            written++;
        }
        TagsEmitted += written;
        SyncTags += syncs;
        DetectionTags += detections;
        FreeRunningDarkCountTags += darks;
        return written;
    }

    /// <summary>Emulates the next batch of clicks into the reorder buffer and moves the release horizon on.</summary>
    private void PullClicks()
    {
        // A bounded stretch of pulses per pull, never "up to the end": where no pulse can click (blinded detectors
        // see no dark counts, and past an emission's end every pulse is vacuum) the link would otherwise search for a
        // click forever, and neither the sync tags nor the end of the stream would ever come out. A stream that has
        // no clicks still moves on in time, as a real tagger's does.
        long position = _link.PulsesEmitted;
        long limit = _endPulse - position > PullPulses ? position + PullPulses : _endPulse;
        int clicks = _link.Emit(_clicks, limit);
        int remaining = _tail - _head;
        int needed = remaining + clicks * _delays.Length;
        if (needed > _pending.Length)
            Array.Resize(ref _pending, Math.Max(needed, 2 * _pending.Length)); // only if the delays spread over many clicks
        if (_head > 0)
        {
            Array.Copy(_pending, _head, _pending, 0, remaining);
            _head = 0;
            _tail = remaining;
        }
        for (int i = 0; i < clicks; i++)
        {
            ref readonly DetectorClick click = ref _clicks[i];
            uint mask = click.ChannelMask;
            while (mask != 0)
            {
                int d = BitOperations.TrailingZeroCount(mask);
                mask &= mask - 1;
                Insert(click.TimePs + _delays[d], click.PulseIndex, _channels[d]);
            }
        }
        position = _link.PulsesEmitted;
        if (position >= _endPulse)
        {
            _horizon = long.MaxValue;
        }
        else
        {
            _horizon = _detectorClock.TimeAt(position, 0) + _minDelay - _jitterGuardPs;
        }
    }

    /// <summary>Insertion from the back: tags arrive almost sorted, so this is usually one comparison.</summary>
    private void Insert(long time, long pulse, ushort channel)
    {
        if (time < _lastTime)
        {
            time = _lastTime;
            OrderClamps++;
        }
        PendingTag[] pending = _pending;
        int i = _tail;
        while (i > _head && pending[i - 1].TimePs > time)
        {
            pending[i] = pending[i - 1];
            i--;
        }
        pending[i] = new PendingTag(time, pulse, channel);
        _tail++;
    }

    private void AdvanceSync()
    {
        long previous = _nextSyncTime;
        if (_nextSyncPulse >= _endPulse - _syncDivider)
        {
            _nextSyncTime = long.MaxValue;
            return;
        }
        _nextSyncPulse += _syncDivider;
        // Validation keeps 40 RMS of jitter inside one interval; the clamp only guards the contract.
        _nextSyncTime = Math.Max(previous, SyncTimeOf(_nextSyncPulse));
    }

    private long SyncTimeOf(long pulse)
    {
        double jitter = _syncJitterRmsPs > 0 ? _syncJitterRmsPs * NormalSampler.Next(_syncRandom) : 0.0;
        return _syncClock.TimeAt(pulse, jitter) + _syncDelayPs;
    }

    /// <summary>Next free-running dark count: an exponential gap of the summed rate, on a uniformly chosen detector.</summary>
    private void AdvanceDark()
    {
        double gap = ExponentialSampler.Next(_darkRandom) * _darkMeanGapPs + _nextDarkFraction;
        double whole = Math.Floor(gap);
        _nextDarkFraction = gap - whole;
        long next = whole < long.MaxValue - (double)_nextDarkTime ? _nextDarkTime + (long)whole : long.MaxValue;
        if (next >= _darkEndTime)
        {
            _nextDarkTime = long.MaxValue;
            return;
        }
        _nextDarkTime = next;
        ulong high = Math.BigMul(_darkRandom.NextUInt64(), (ulong)_channels.Length, out _);
        _nextDarkChannel = _channels[(int)high];
    }

    private readonly record struct PendingTag(long TimePs, long Pulse, ushort Channel);
}
