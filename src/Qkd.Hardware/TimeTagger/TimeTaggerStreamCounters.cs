namespace Qkd.Hardware.TimeTagger;

/// <summary>
/// What a tagger's stream delivered and what it lost. Lost data is never silent: a missing frame, a duplicated one, a
/// frame with bad records and the device's own overflow reports each have a counter, and gaps reach the tag stream as
/// overflow pairs.
/// </summary>
public sealed class TimeTaggerStreamCounters
{
    public long Tags;
    public long Frames;

    /// <summary>TagData frames missing from the sequence (lost on the line or while disconnected).</summary>
    public long FramesLost;

    /// <summary>TagData frames received twice (sequence already seen), dropped.</summary>
    public long FramesDuplicated;

    /// <summary>Frames with a valid CRC but invalid records (a firmware fault), dropped whole.</summary>
    public long FramesInvalid;

    /// <summary>Overflow events from the device.</summary>
    public long OverflowEvents;

    /// <summary>Tags the device reported lost in its overflow events.</summary>
    public long OverflowTagsLost;

    /// <summary>Gaps marked in the tag stream (overflow pairs the driver inserted for lost frames or a disconnect).</summary>
    public long GapsMarked;

    /// <summary>Tags that arrived after the host stopped the stream while nobody was reading (not data: discarded, counted).</summary>
    public long TagsDiscarded;

    public IReadOnlyDictionary<string, long> ToDictionary() => new Dictionary<string, long>
    {
        ["tags"] = Interlocked.Read(ref Tags),
        ["frames"] = Interlocked.Read(ref Frames),
        ["framesLost"] = Interlocked.Read(ref FramesLost),
        ["framesDuplicated"] = Interlocked.Read(ref FramesDuplicated),
        ["framesInvalid"] = Interlocked.Read(ref FramesInvalid),
        ["overflowEvents"] = Interlocked.Read(ref OverflowEvents),
        ["overflowTagsLost"] = Interlocked.Read(ref OverflowTagsLost),
        ["gapsMarked"] = Interlocked.Read(ref GapsMarked),
        ["tagsDiscarded"] = Interlocked.Read(ref TagsDiscarded),
    };
}
