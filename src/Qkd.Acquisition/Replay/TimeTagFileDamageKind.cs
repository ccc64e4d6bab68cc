namespace Qkd.Acquisition.Replay;

/// <summary>What is wrong with one damaged stretch of a time-tag file.</summary>
public enum TimeTagFileDamageKind
{
    /// <summary>One or more chunks that fail their CRC, do not decode, or bytes where a chunk should start but none does; their tags are never replayed.</summary>
    CorruptChunks,

    /// <summary>
    /// Tags missing between two intact chunks with no damaged bytes in between: a chunk cut out of the file, found by
    /// a jump in time at the chunk boundary or by the trailer's tag and chunk counts.
    /// </summary>
    MissingChunks,

    /// <summary>The file ends without its trailer: the recording was cut off (a crash, a copy in progress, a partial download).</summary>
    Truncated,
}
