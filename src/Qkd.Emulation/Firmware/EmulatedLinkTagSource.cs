using Qkd.Core.TimeTags;
using Qkd.Emulation.TimeTagging;

namespace Qkd.Emulation.Firmware;

/// <summary>
/// The physics behind the emulated time tagger for one emission: waits for the modulator to start emitting, then builds
/// the <see cref="EmulatedLink"/> (Alice's symbols = the modulator's <see cref="ModulatorSymbolFifo"/>) and the
/// <see cref="EmulatedTimeTagger"/> over it from the devices' settings, and hands out its tags, feeding detector counts.
/// </summary>
/// <remarks>
/// <para>Where the stream ends. The tagger is built with no end (the end is not known until the host stops the
/// emission) and this source cuts the stream exactly as an <see cref="EmulatedTimeTagger"/> built with
/// <c>EndPulse</c> = the emission's length would: detection and sync tags of pulses below the end, free-running dark
/// counts before the end pulse's arrival time. That is exact because the link's clicks, the sync tags and the dark
/// counts below the end do not depend on anything after it (each random stream is consumed in pulse or time order).
/// While the end is unknown, a tag is released only when its pulse is known to be inside the emission (the host has
/// sent it); the few sync tags generated ahead of the light wait until then.</para>
/// <para>Heads whose bias is off (by the host or by the interlock) do not detect: their tags are dropped here.</para>
/// </remarks>
public sealed class EmulatedLinkTagSource : ITimeTagSource
{
    private const int PullBatch = 4096;

    private readonly EmulatedLinkDevices _devices;
    private readonly int _session;
    private readonly TimeTag[] _pullTags = new TimeTag[PullBatch];
    private readonly TimeTagTruth[] _pullTruth = new TimeTagTruth[PullBatch];
    private readonly long[] _headCounts;
    private readonly bool[] _biased;
    private TimeTag[] _tags = new TimeTag[PullBatch * 2];
    private TimeTagTruth[] _truth = new TimeTagTruth[PullBatch * 2];
    private int _head;
    private int _tail;
    private EmulatedTimeTagger? _tagger;
    private ModulatorSymbolFifo? _fifo;
    private BobClock? _detectorClock;
    private long _endTimeBoundPs = long.MaxValue;
    private long _darkEndPs = long.MaxValue;
    private bool _finished;
    private CancellationTokenRegistration _abortOnCancel;

    internal EmulatedLinkTagSource(EmulatedLinkDevices devices, int session)
    {
        _devices = devices;
        _session = session;
        _headCounts = new long[devices.Detector.Heads];
        _biased = new bool[devices.Detector.Heads];
    }

    public string Name => $"emulated link, session {_session}";

    /// <summary>The link profile this session runs (null until the emission started).</summary>
    public LinkProfile? Profile { get; private set; }

    /// <summary>The light this session's emission sends, from the modulator's settings (null until the emission started).</summary>
    public TransmitterLight? Light { get; private set; }

    /// <summary>The tagger options this session runs (null until the emission started).</summary>
    public EmulatedTimeTaggerOptions? TaggerOptions { get; private set; }

    /// <summary>The emission whose symbols this session emits (null until it started).</summary>
    public ModulatorSymbolFifo? Emission => _fifo;

    /// <summary>The emulated tagger of this session (ground truth and counters), null until the emission started.</summary>
    public EmulatedTimeTagger? Tagger => _tagger;

    /// <summary>Whether every tag of the emission was handed out (Read returns 0).</summary>
    public bool Ended { get; private set; }

    /// <summary>Tags of heads with bias off, dropped.</summary>
    public long TagsOfUnbiasedHeads { get; private set; }

    public int Read(Span<TimeTag> destination, CancellationToken cancellationToken = default)
    {
        if (Ended) return 0;
        if (_tagger is null) Begin(cancellationToken);
        int firstDetector = TaggerOptions!.FirstDetectorChannel;
        for (int h = 0; h < _biased.Length; h++) _biased[h] = _devices.Detector.IsBiasEnabled(h);
        int written = 0;
        while (written < destination.Length)
        {
            if (_head == _tail)
            {
                if (_finished || written > 0) break;
                Pull(cancellationToken);
                continue;
            }
            ref readonly TimeTag tag = ref _tags[_head];
            int verdict = Classify(tag, _truth[_head]);
            if (verdict == Unknown)
            {
                if (written > 0) break; // hand out what is certain; the rest waits for the host's symbols
                Pull(cancellationToken);
                continue;
            }
            if (verdict == Beyond)
            {
                _finished = true;
                _head = _tail = 0;
                break;
            }
            _head++;
            if (verdict == Drop) continue;
            int head = tag.Channel - firstDetector;
            if ((uint)head < (uint)_headCounts.Length)
            {
                if (!_biased[head])
                {
                    TagsOfUnbiasedHeads++;
                    continue;
                }
                _headCounts[head]++;
            }
            destination[written++] = tag;
        }
        for (int h = 0; h < _headCounts.Length; h++)
        {
            _devices.Detector.AddCounts(h, _headCounts[h]);
            _headCounts[h] = 0;
        }
        if (written == 0 && _finished)
        {
            Ended = true;
            _abortOnCancel.Dispose();
        }
        return written;
    }

    private const int Keep = 0, Drop = 1, Unknown = 2, Beyond = 3;

    private int Classify(in TimeTag tag, in TimeTagTruth truth)
    {
        ModulatorSymbolFifo fifo = _fifo!;
        if (fifo.IsComplete)
        {
            long end = fifo.EndPulse;
            if (_endTimeBoundPs == long.MaxValue) SetEnd(end);
            if (tag.TimePs > _endTimeBoundPs) return Beyond;
            return truth.Origin == TimeTagOrigin.FreeRunningDarkCount
                ? tag.TimePs < _darkEndPs ? Keep : Drop
                : truth.PulseIndex < end ? Keep : Drop;
        }
        long received = fifo.ReceivedEnd;
        return truth.Origin == TimeTagOrigin.FreeRunningDarkCount
            ? tag.TimePs < _detectorClock!.TimeAt(received, 0) ? Keep : Unknown
            : truth.PulseIndex < received ? Keep : Unknown;
    }

    /// <summary>
    /// The emission's end is known: dark counts stop at the end pulse's arrival, and no tag of a pulse below the end
    /// can come later than the bound (arrival or sync time plus the largest delay and 12 RMS of jitter).
    /// </summary>
    private void SetEnd(long endPulse)
    {
        LinkProfile profile = Profile!;
        EmulatedTimeTaggerOptions options = TaggerOptions!;
        var syncClock = new BobClock(profile with { FibreLengthKm = 0 }, Light!.PulseRateHz);
        long maxDelay = 0;
        for (int d = 0; d < profile.DetectorCount; d++) maxDelay = Math.Max(maxDelay, options.DetectorDelayPs(d));
        long detections = _detectorClock!.TimeAt(endPulse, 0) + maxDelay + (long)Math.Ceiling(12 * profile.TimingJitterRmsPs) + 2;
        long syncs = syncClock.TimeAt(endPulse, 0) + options.SyncDelayPs + (long)Math.Ceiling(12 * options.SyncJitterRmsPs) + 2;
        _darkEndPs = _detectorClock.TimeAt(endPulse, 0);
        _endTimeBoundPs = Math.Max(Math.Max(detections, syncs), _darkEndPs);
    }

    private void Pull(CancellationToken cancellationToken)
    {
        int n = _tagger!.Read(_pullTags, _pullTruth, cancellationToken);
        if (n == 0)
        {
            _finished = true; // cannot happen with an endless tagger, but is the end if it does
            return;
        }
        if (_head > 0 && _head == _tail) _head = _tail = 0;
        if (_tail + n > _tags.Length)
        {
            int count = _tail - _head;
            if (count + n > _tags.Length)
            {
                Array.Resize(ref _tags, Math.Max(_tags.Length * 2, count + n));
                Array.Resize(ref _truth, _tags.Length);
            }
            Array.Copy(_tags, _head, _tags, 0, count);
            Array.Copy(_truth, _head, _truth, 0, count);
            _head = 0;
            _tail = count;
        }
        _pullTags.AsSpan(0, n).CopyTo(_tags.AsSpan(_tail));
        _pullTruth.AsSpan(0, n).CopyTo(_truth.AsSpan(_tail));
        _tail += n;
    }

    /// <summary>Waits for the emission this session belongs to, then builds link and tagger from the devices' settings.</summary>
    private void Begin(CancellationToken cancellationToken)
    {
        ModulatorSymbolFifo fifo = _devices.WaitForUnusedEmission(cancellationToken);
        _fifo = fifo;
        // A tagger shutting down must not stay blocked inside the link waiting for symbols.
        _abortOnCancel = cancellationToken.Register(static state => ((ModulatorSymbolFifo)state!).Abort(), fifo);
        Profile = _devices.ImpliedProfile();
        Light = _devices.ImpliedLight();
        TaggerOptions = _devices.ImpliedTaggerOptions();
        _detectorClock = new BobClock(Profile, Light.PulseRateHz);
        // An active receiver measures in the bases Bob's host streams to its detector; a pattern started after the
        // light came (or never) leaves the gates closed.
        IReceiverBasisSettings? bob = null;
        if (Profile.ReceiverLayout == Core.ReceiverLayout.ActiveTwoDetector)
            bob = _devices.Detector.BasisPattern is { } pattern ? new BasisPatternSettings(pattern, fifo) : new NoBasisSettings();
        var link = new EmulatedLink(Profile, Light, fifo, EmulatedLinkDevices.LinkSeed(_devices.Seed, _session), bob);
        _tagger = new EmulatedTimeTagger(link, TaggerOptions, EmulatedLinkDevices.TaggerSeed(_devices.Seed, _session));
    }
}
