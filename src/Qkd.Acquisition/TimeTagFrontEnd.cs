using System.Diagnostics;
using Qkd.Core.Diagnostics;
using Qkd.Acquisition.Loop;
using Qkd.Core;
using Qkd.Core.Random;
using Qkd.Core.Rings;
using Qkd.Core.Symbols;
using Qkd.Core.TimeTags;

namespace Qkd.Acquisition;

/// <summary>
/// Bob's receiver front end over a time tagger: one lock-free ring between the tagger and clock recovery, filled by a
/// thread dedicated to the tagger; the caller's thread takes tag batches from that ring, recovers Alice's clock to
/// assign pulse indices (<see cref="ClockRecovery"/>) and decodes the clicks into BB84 detections
/// (<see cref="DetectionDecoder"/>). A tagger driver (an <see cref="IBufferedTimeTagSource"/>) fills its own ring from
/// its connection's reader thread, and that ring is the one; a source that is only read (a replayed file, the emulator's
/// tagger) is drained by the acquisition loop's thread into a ring of <c>ringCapacity</c> tags made here.
/// The same object runs on the emulated tagger, a replayed file and a hardware tagger. A passive receiver's tags say
/// everything; an active receiver's basis per slot comes from Bob's own choices (<c>bases</c>), placed by the basis
/// marker that clock recovery finds.
/// </summary>
public sealed class TimeTagFrontEnd : IDisposable
{
    private TimeTag[] _tags = [];
    private DetectorClick[] _clicks = [];
    private bool _flushed;

    /// <param name="ringCapacity">Capacity of the ring made for a source that is only read; a buffered source's ring is its own.
    /// Such a source (a recording, the emulator's tagger) waits under back-pressure and loses nothing, so the ring need
    /// not absorb stalls: 2^17 tags (2 MiB) keeps the tags between the reader and clock recovery in the cache, where a
    /// ring of 16 MiB that the reader keeps full has clock recovery read, and the reader write, memory long evicted.</param>
    /// <param name="bases">An active receiver's basis choices (what its modulator was fed); required for one, and the
    /// clock options must then name the basis-marker input.</param>
    public TimeTagFrontEnd(ITimeTagSource source, ClockRecoveryOptions clock, ReceiverLayout layout, IRandomSource squashing,
        int ringCapacity = 1 << 17, AcquisitionLoopOptions? loopOptions = null, IBasisChoices? bases = null)
    {
        ArgumentNullException.ThrowIfNull(clock);
        if (layout == ReceiverLayout.ActiveTwoDetector && (bases is null || clock.BasisMarkerChannel is null))
            throw new ArgumentException(
                "An active receiver goes through the tag path with Bob's basis choices and its basis marker wired to a tagger input (basisMarkerChannel).",
                nameof(layout));
        Source = source;
        Loop = source is IBufferedTimeTagSource buffered
            ? new AcquisitionLoop(buffered, loopOptions)
            : new AcquisitionLoop(source, new SpscRing<TimeTag>(ringCapacity, OverflowPolicy.BackPressure, new BlockingWaitStrategy()), loopOptions);
        Clock = new ClockRecovery(clock);
        Decoder = new DetectionDecoder(layout, squashing, layout == ReceiverLayout.ActiveTwoDetector ? bases : null);
    }

    public ITimeTagSource Source { get; }

    public AcquisitionLoop Loop { get; }

    public ClockRecovery Clock { get; }

    public DetectionDecoder Decoder { get; }

    /// <summary>Tags waiting in the one ring between the tagger and clock recovery.</summary>
    public int RingFill => Loop.RingFill;

    /// <summary>Capacity of that ring, tags.</summary>
    public int RingCapacity => Loop.RingCapacity;

    /// <summary>
    /// Where the time goes: reading batches from the source (acquisition, on the loop's thread) and clock recovery with
    /// decoding (on the reader's thread, per batch); null: not measured. Set before <see cref="Start"/>.
    /// </summary>
    public StageTimes? Stages
    {
        get => Loop.Stages;
        set => Loop.Stages = value;
    }

    public void Start() => Loop.Start();

    /// <summary>
    /// Blocks until tags are available and writes the detections they yield into <paramref name="destination"/>;
    /// returns 0 once the tagger's stream has ended and everything is decoded. A batch can yield no detection (only sync
    /// tags), so callers loop until 0. Rethrows the tagger's failure once the tags read before it are delivered.
    /// </summary>
    public int Read(Span<Detection> destination, CancellationToken cancellationToken = default)
    {
        int tagRoom = destination.Length - Clock.MaxHeldClicks;
        if (tagRoom < 1)
            throw new ArgumentException($"The destination must hold more than {Clock.MaxHeldClicks} detections (clock recovery may release that many held clicks).", nameof(destination));
        if (_clicks.Length < tagRoom + Clock.MaxHeldClicks)
        {
            if (!Loop.HasOwnThread) _tags = new TimeTag[tagRoom];
            _clicks = new DetectorClick[tagRoom + Clock.MaxHeldClicks];
        }
        while (true)
        {
            int clicks;
            int n;
            long start;
            if (Loop.HasOwnThread)
            {
                // The loop's own ring: recover the clock on the tags where they lie, then hand the slots back.
                ReadOnlySpan<TimeTag> tags = Loop.PeekBatch(tagRoom, cancellationToken);
                n = tags.Length;
                start = Stopwatch.GetTimestamp();
                if (n > 0 && !Decoder.UsesBasisChoices)
                {
                    int decoded = RecoverAndDecodeInSlices(tags, destination);
                    Loop.ReleaseBatch(n);
                    Loop.Stages?.AddSince(PipelineStage.ClockRecovery, start);
                    if (decoded > 0) return decoded;
                    continue;
                }
                clicks = n > 0 ? Clock.Process(tags, _clicks) : 0;
                Loop.ReleaseBatch(n);
            }
            else
            {
                n = Loop.Read(_tags.AsSpan(0, tagRoom), cancellationToken);
                start = Stopwatch.GetTimestamp();
                clicks = n > 0 ? Clock.Process(_tags.AsSpan(0, n), _clicks) : 0;
            }
            if (n == 0)
            {
                if (_flushed)
                {
                    if (Loop.Completion.IsFaulted) Loop.Completion.GetAwaiter().GetResult();
                    return 0;
                }
                _flushed = true;
                clicks = Clock.Flush(_clicks);
            }
            Decoder.BasisMarkerPulse = Clock.BasisMarkerPulse;
            int detections = Decoder.Decode(_clicks.AsSpan(0, clicks), destination);
            Loop.Stages?.AddSince(PipelineStage.ClockRecovery, start);
            if (detections > 0) return detections;
        }
    }

    /// <summary>
    /// Tags a slice of a batch goes through clock recovery and the decoder with: the slice's clicks (24 bytes each) are
    /// decoded while they are still in the first-level cache, where a whole batch's (up to 1.5 MB for the replay's
    /// 2^16 detections) were written out to memory and read back.
    /// </summary>
    internal const int SliceTags = 2048;

    /// <summary>
    /// Clock recovery and decoding of <paramref name="tags"/> slice by slice, the detections written one after the other
    /// into <paramref name="destination"/>; returns how many. The same clicks (clock recovery does not depend on how
    /// the stream is cut), decoded in the same order (so the same squashing draws). Only for a decoder without basis
    /// choices: an active receiver's marker, known after a later slice, would otherwise drop clicks the whole batch kept.
    /// Fits: every slice yields at most its tags plus the clicks held before it, so the detections of all slices are at
    /// most <c>tags.Length + MaxHeldClicks</c>, which the caller's destination holds.
    /// </summary>
    private int RecoverAndDecodeInSlices(ReadOnlySpan<TimeTag> tags, Span<Detection> destination)
    {
        int decoded = 0;
        for (int at = 0; at < tags.Length; at += SliceTags)
        {
            int clicks = Clock.Process(tags.Slice(at, Math.Min(SliceTags, tags.Length - at)), _clicks);
            decoded += Decoder.Decode(_clicks.AsSpan(0, clicks), destination[decoded..]);
        }
        return decoded;
    }

    public void Dispose() => Loop.Dispose();
}
