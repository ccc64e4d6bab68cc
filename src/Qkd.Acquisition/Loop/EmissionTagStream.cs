using System.Diagnostics;
using Qkd.Core.TimeTags;

namespace Qkd.Acquisition.Loop;

/// <summary>
/// The tag stream of one emission (a node's LinkRig.StartEmission), ended where the emission's light ends in the
/// tagger's own time. A real time tagger streams until it is told to stop (dark counts never stop); the emulated one
/// ends its stream when its physics ends. Both end here at the same tag: once the sync tags of every emitted pulse have
/// arrived, the stream runs until the light of the last pulse can no longer arrive (the last sync, plus the pulses
/// after it, plus the fibre delay and a guard), then the tagger is stopped. Tags it flushes beyond that point belong
/// to no pulse of the emission: they are counted in <see cref="TagsAfterEnd"/>, not delivered.
/// </summary>
/// <remarks>
/// A filter, not a buffer: it reads the tagger's own ring on the reader's thread (the consumer's, in the acquisition
/// loop), so the tagger's ring stays the one ring between the tagger and clock recovery; its ring counters are the
/// tagger's.
/// </remarks>
/// <remarks>
/// If sync tags went missing (lost at the start, an overflow), the count is never reached: the stream then ends at the
/// bound set by the first sync seen (the whole emission after it, plus the tail), at the first tag past it; a tagger
/// that goes silent is stopped once no sync tag has arrived for <see cref="QuietTimeout"/> after the emission was
/// reported over (counted from the last sync read, and only while the tagger's ring holds nothing more to read). Bob's
/// node, which never sees Alice's modulator, passes an emission that is never reported over and relies on the bound.
/// </remarks>
public sealed class EmissionTagStream : IBufferedTimeTagSource
{
    private readonly IBufferedTimeTagSource _tagger;
    private readonly Action _stopTagger;
    private readonly long _pulses;
    private readonly long _syncDivider;
    private readonly ushort _syncChannel;
    private readonly double _pulsePeriodPs;
    private readonly long _tailPs;
    private readonly long _expectedSyncs;
    private long _syncsSeen;
    private long _endPs = long.MaxValue;
    private long _lastSyncTimestamp = Stopwatch.GetTimestamp();
    private bool _stopRequested;

    /// <param name="tagger">The streaming tagger's tags.</param>
    /// <param name="stopTagger">Stops the tagger's stream; its tags received until then are still read, then the stream ends.</param>
    /// <param name="emissionStopped">Completes once the modulator has stopped emitting.</param>
    /// <param name="pulses">Pulses 0 .. pulses - 1 are emitted.</param>
    /// <param name="syncDivider">One sync tag every this many pulses, the first at pulse 0.</param>
    /// <param name="syncChannel">The tagger input of the sync.</param>
    /// <param name="pulsePeriodPs">The pulse period.</param>
    /// <param name="tailPs">How long after its pulse a pulse's light (and what it triggers) can still arrive: the fibre
    /// delay plus cable delays and a guard.</param>
    public EmissionTagStream(IBufferedTimeTagSource tagger, Action stopTagger, Task emissionStopped, long pulses, int syncDivider, ushort syncChannel, double pulsePeriodPs, long tailPs)
    {
        ArgumentNullException.ThrowIfNull(tagger);
        ArgumentNullException.ThrowIfNull(stopTagger);
        ArgumentNullException.ThrowIfNull(emissionStopped);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pulses);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(syncDivider);
        ArgumentOutOfRangeException.ThrowIfNegative(tailPs);
        if (!(pulsePeriodPs > 0)) throw new ArgumentOutOfRangeException(nameof(pulsePeriodPs), pulsePeriodPs, "The pulse period must be positive.");
        _tagger = tagger;
        _stopTagger = stopTagger;
        EmissionStopped = emissionStopped;
        _pulses = pulses;
        _syncDivider = syncDivider;
        _syncChannel = syncChannel;
        _pulsePeriodPs = pulsePeriodPs;
        _tailPs = tailPs;
        _expectedSyncs = (pulses + syncDivider - 1) / syncDivider;
    }

    /// <summary>How far apart the two ends' clocks may run (100 ppm, far beyond any oscillator's drift), for the first-sync bound.</summary>
    public const double MaxClockDeviation = 1e-4;

    /// <summary>Completes once the modulator has stopped emitting (faults of the emission surface here).</summary>
    public Task EmissionStopped { get; }

    /// <summary>
    /// After the emission, how long without a sync tag before the tagger is stopped anyway. A last resort for a stream
    /// that goes silent before its end bound in tagger time is known: a streaming tagger ends at that bound, an emulated
    /// one by itself. Long (30 s), because on a loaded machine an emulated tagger can stall for seconds between syncs,
    /// and stopping it then cuts tags the emission did produce (seen: 2,891 of 2,930 syncs under a load average of 50).
    /// </summary>
    public TimeSpan QuietTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public string Name => $"{_tagger.Name} (emission of {_pulses} pulses)";

    public int Buffered => _tagger.Buffered;

    public int BufferCapacity => _tagger.BufferCapacity;

    public long Dropped => _tagger.Dropped;

    /// <summary>Event tags the tagger sent after the end of the emission's light (not delivered).</summary>
    public long TagsAfterEnd { get; private set; }

    /// <summary>Sync tags seen so far (at most one per <c>syncDivider</c> pulses of the emission).</summary>
    public long SyncsSeen => _syncsSeen;

    /// <summary>
    /// The tagger time after which no tag belongs to the emission; null until a sync arrived. Set at the first sync
    /// (which marks pulse 0 or, if syncs were lost, a later pulse: the whole emission after it is an upper bound) and
    /// tightened at the emission's last sync.
    /// </summary>
    public long? EndPs => _endPs == long.MaxValue ? null : _endPs;

    public int Read(Span<TimeTag> destination, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            int n;
            if (_stopRequested || !EmissionStopped.IsCompleted)
            {
                n = _tagger.Read(destination, cancellationToken);
            }
            else
            {
                // The emission is over: wake up now and then to apply the quiet rule, even if the stream is silent. Only
                // once the tagger's ring is drained: tags still waiting there may hold the syncs (a reader that fell
                // behind is not a tagger that went quiet).
                if (_tagger.Buffered == 0 && Stopwatch.GetElapsedTime(_lastSyncTimestamp) > QuietTimeout)
                {
                    Stop();
                    continue;
                }
                using var wake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                wake.CancelAfter(QuietTimeout);
                try
                {
                    n = _tagger.Read(destination, wake.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    continue;
                }
            }
            if (n == 0) return 0; // the tagger ended its stream (the emulated one does, with its physics)
            n = KeepEmissionTags(destination[..n]);
            if (n > 0) return n;
        }
    }

    /// <summary>Compacts the tags of the emission to the front; counts the others and stops the tagger at the first.</summary>
    private int KeepEmissionTags(Span<TimeTag> tags)
    {
        int kept = 0;
        for (int i = 0; i < tags.Length; i++)
        {
            TimeTag tag = tags[i];
            bool sync = tag.IsEvent && tag.Channel == _syncChannel;
            if (sync && _syncsSeen < _expectedSyncs)
            {
                _syncsSeen++;
                _lastSyncTimestamp = Stopwatch.GetTimestamp();
                if (_syncsSeen == 1)
                {
                    // The first sync seen marks pulse 0, or a later one if the first syncs were lost: the whole emission
                    // after it is a bound that holds either way (it only lets more dark counts in when syncs were lost).
                    // Counted on the tagger's clock, which may run up to MaxClockDeviation apart from Alice's.
                    _endPs = tag.TimePs + (long)Math.Ceiling(_pulses * _pulsePeriodPs * (1 + MaxClockDeviation)) + _tailPs;
                }
                if (_syncsSeen == _expectedSyncs)
                {
                    // The last sync marks pulse (S-1)·divider; the emission goes on for the pulses after it.
                    long pulsesAfter = _pulses - (_expectedSyncs - 1) * _syncDivider;
                    _endPs = Math.Min(_endPs, tag.TimePs + (long)Math.Ceiling(pulsesAfter * _pulsePeriodPs) + _tailPs);
                }
            }
            else if (sync || tag.TimePs >= _endPs)
            {
                // A sync beyond the emission's last, or anything after its light: not part of this emission.
                if (tag.IsEvent) TagsAfterEnd++;
                if (!_stopRequested) Stop();
                continue;
            }
            tags[kept++] = tag;
        }
        return kept;
    }

    private void Stop()
    {
        _stopRequested = true;
        // The reply comes after the tagger's last TagData frame; Read then drains the rest and ends.
        _stopTagger();
    }
}
