namespace Qkd.Acquisition.Replay;

/// <summary>
/// What a <see cref="TimeTagFileReader"/> found about its file's completeness: every damaged stretch (corrupt chunks,
/// chunks missing, a missing trailer), the tags read and the link time they really cover. A replay that trusts a
/// recording's claimed length without looking here over-counts its duration by whatever was lost.
/// </summary>
/// <param name="ReadToEnd">Whether the reader reached the trailer or the end of the file (else the figures cover only what was read).</param>
/// <param name="TrailerSeen">Whether the writer's trailer was found, i.e. the recording was closed cleanly.</param>
/// <param name="TagsRead">Tags delivered (intact chunks only).</param>
/// <param name="ChunksRead">Intact chunks decoded.</param>
/// <param name="CorruptChunks">Corrupt chunks and damaged regions skipped.</param>
/// <param name="BytesSkipped">Bytes passed over while resynchronising after damage.</param>
/// <param name="TrailerTagCount">The tag count the trailer states, if it was read.</param>
/// <param name="TrailerChunkCount">The chunk count the trailer states, if it was read.</param>
/// <param name="FirstTagPs">Earliest intact tag time, ps; null without tags.</param>
/// <param name="LastTagPs">Latest intact tag time, ps; null without tags.</param>
/// <param name="Damage">Every damaged stretch, in file order; empty for an intact file.</param>
public sealed record TimeTagFileIntegrity(
    bool ReadToEnd,
    bool TrailerSeen,
    long TagsRead,
    long ChunksRead,
    long CorruptChunks,
    long BytesSkipped,
    long? TrailerTagCount,
    long? TrailerChunkCount,
    long? FirstTagPs,
    long? LastTagPs,
    IReadOnlyList<TimeTagFileDamage> Damage)
{
    /// <summary>Read to the end and nothing is damaged, missing or cut off.</summary>
    public bool IsIntact => ReadToEnd && Damage.Count == 0;

    /// <summary>The file ends without its trailer.</summary>
    public bool IsTruncated => Damage.Any(d => d.Kind == TimeTagFileDamageKind.Truncated);

    /// <summary>Link time lost inside the recording (between intact tags), ps; time lost before the first or after the last intact tag is not in it.</summary>
    public long InteriorLostPs => Damage.Sum(d => d.LostPs ?? 0);

    /// <summary>
    /// Link time the intact tags cover, ps: from the first to the last intact tag, less the stretches lost in between.
    /// This, not a length the metadata claims, is what rates and gains of a damaged file must be divided by.
    /// </summary>
    public long CoveredPs => FirstTagPs is long first && LastTagPs is long last ? Math.Max(0, last - first - InteriorLostPs) : 0;

    /// <summary>
    /// Tags lost, exactly, when the trailer says how many were written; otherwise the sum of what damaged chunk headers
    /// state (a lower bound; null when no damaged stretch states a count).
    /// </summary>
    public long? TagsLost =>
        TrailerTagCount is long written ? Math.Max(0, written - TagsRead)
        : Damage.Any(d => d.TagsLost is not null) ? Damage.Sum(d => d.TagsLost ?? 0) : null;

    /// <summary>Whether <see cref="TagsLost"/> is exact (from the trailer) rather than a lower bound.</summary>
    public bool TagsLostExact => TrailerTagCount is not null;
}
