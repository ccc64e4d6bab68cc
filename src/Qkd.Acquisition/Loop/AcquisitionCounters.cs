using Qkd.Core.TimeTags;

namespace Qkd.Acquisition.Loop;

/// <summary>
/// What one acquisition loop has seen and lost, per channel. Written only by the one thread that reads the source (the
/// loop's own thread, or for a source that drains itself the consumer's), with plain stores and no locks on the hot
/// path; read by anyone through <see cref="Snapshot"/>, which uses volatile reads so a monitor sees values no older
/// than the last batch. For a source that drains itself into its own ring, what that ring drops is counted by the
/// source and read live into <see cref="AcquisitionSnapshot.DroppedByRing"/>.
/// </summary>
public sealed class AcquisitionCounters
{
    private readonly IBufferedTimeTagSource? _ringSource;

    public AcquisitionCounters()
    {
    }

    /// <param name="ringSource">The source whose own ring is the one ring: its drops are this loop's ring drops.</param>
    internal AcquisitionCounters(IBufferedTimeTagSource ringSource) => _ringSource = ringSource;

    /// <summary>Channels tracked individually; tags on higher channels are counted in <see cref="AcquisitionSnapshot.UnknownChannelTags"/>.</summary>
    public const int MaxChannels = 64;

    private readonly long[] _tagsPerChannel = new long[MaxChannels];
    private long _batches, _tags, _overflows, _missedEvents, _unknownChannel, _droppedByRing, _disconnects;

    /// <summary>Counts one batch read from the source. Called by the loop thread only.</summary>
    internal void CountBatch(ReadOnlySpan<TimeTag> batch)
    {
        _batches++;
        _tags += batch.Length;
        // Counts in locals and the per-channel array tested against its own length (it has MaxChannels entries), so
        // the loop does one load, one compare and one increment per tag and no field or bounds traffic.
        long[] perChannel = _tagsPerChannel;
        long overflows = 0, missedEvents = 0, unknownChannel = 0;
        foreach (ref readonly TimeTag tag in batch)
        {
            if (tag.Kind == TimeTagKind.OverflowEnd)
            {
                overflows++;
                missedEvents += tag.MissedEvents;
            }
            int channel = tag.Channel;
            if ((uint)channel < (uint)perChannel.Length) perChannel[channel]++;
            else unknownChannel++;
        }
        _overflows += overflows;
        _missedEvents += missedEvents;
        _unknownChannel += unknownChannel;
    }

    /// <summary>Counts tags the loop's ring refused (drop-newest policy) or abandoned (disposed under back-pressure). Called by the loop thread only.</summary>
    internal void CountDropped(long count) => _droppedByRing += count;

    /// <summary>Counts one outage of the source's device. Called by the loop thread only.</summary>
    internal void CountDisconnect() => _disconnects++;

    public AcquisitionSnapshot Snapshot()
    {
        var perChannel = new long[MaxChannels];
        for (int i = 0; i < MaxChannels; i++) perChannel[i] = Volatile.Read(ref _tagsPerChannel[i]);
        return new AcquisitionSnapshot(Volatile.Read(ref _batches), Volatile.Read(ref _tags), perChannel,
            Volatile.Read(ref _overflows), Volatile.Read(ref _missedEvents), Volatile.Read(ref _unknownChannel),
            Volatile.Read(ref _droppedByRing) + (_ringSource?.Dropped ?? 0), Volatile.Read(ref _disconnects));
    }
}

/// <param name="TagsPerChannel">Tags read per channel (index = channel).</param>
/// <param name="Overflows">Overflow episodes the tagger reported.</param>
/// <param name="MissedEvents">Tags the tagger itself reported lost during overflows.</param>
/// <param name="UnknownChannelTags">Tags on channels at or above <see cref="AcquisitionCounters.MaxChannels"/>.</param>
/// <param name="DroppedByRing">Tags that never reached the consumer although the tagger delivered them: refused by the full
/// ring (drop-newest policy) or abandoned while waiting for ring space when acquisition was stopped (back-pressure).</param>
/// <param name="Disconnects">Times the source's device went away (each outage once, however long it lasted).</param>
public sealed record AcquisitionSnapshot(
    long Batches,
    long Tags,
    IReadOnlyList<long> TagsPerChannel,
    long Overflows,
    long MissedEvents,
    long UnknownChannelTags,
    long DroppedByRing,
    long Disconnects = 0);
