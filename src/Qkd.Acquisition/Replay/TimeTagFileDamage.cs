using System.Globalization;

namespace Qkd.Acquisition.Replay;

/// <summary>
/// One damaged stretch of a time-tag file, as <see cref="TimeTagFileReader"/> found it: where (byte offset), what, how many
/// tags it held when the file says so, and the time it spans between the last intact tag before and the first after.
/// </summary>
/// <param name="Kind">Corrupt chunks, chunks missing, or the file cut off.</param>
/// <param name="ByteOffset">Offset in the file where the damage starts (for <see cref="TimeTagFileDamageKind.Truncated"/>: the file's length).</param>
/// <param name="Chunks">Corrupt or missing chunks in this stretch (a damaged region with no recognisable chunk header counts once); null when unknown (a truncation, or a gap found only by its jump in time).</param>
/// <param name="TagsLost">Tags lost here when the file says how many (an intact chunk header, or the trailer's count); null when unknown.</param>
/// <param name="FromPs">Time of the last intact tag before the damage; null when the damage is at the start.</param>
/// <param name="ToPs">Time of the first intact tag after the damage; null when the damage runs to the end of the file.</param>
/// <param name="Detail">What the reader saw (the failed check), for people.</param>
public sealed record TimeTagFileDamage(
    TimeTagFileDamageKind Kind,
    long ByteOffset,
    int? Chunks,
    long? TagsLost,
    long? FromPs,
    long? ToPs,
    string Detail)
{
    /// <summary>Link time the damage takes out of the recording, ps, when both ends are known: the span between the intact tags on either side.</summary>
    public long? LostPs => FromPs is long from && ToPs is long to ? Math.Max(0, to - from) : null;

    /// <summary>One line for people: what, where, how many tags and how much time.</summary>
    public string Describe()
    {
        var c = CultureInfo.InvariantCulture;
        string tags = TagsLost is long n ? string.Create(c, $", {n:N0} tags lost") : "";
        string span = FromPs is long from && ToPs is long to
            ? string.Create(c, $", {(to - from) / 1e12:G4} s of tags missing (from {from / 1e12:F6} s to {to / 1e12:F6} s)")
            : ToPs is long first ? string.Create(c, $", before the first intact tag at {first / 1e12:F6} s")
            : Kind == TimeTagFileDamageKind.Truncated ? (FromPs is long last ? string.Create(c, $", last intact tag at {last / 1e12:F6} s") : "")
            : Kind == TimeTagFileDamageKind.CorruptChunks ? ", running to the end of the file" : "";
        return Kind switch
        {
            TimeTagFileDamageKind.Truncated => string.Create(c, $"truncated at byte {ByteOffset:N0} (no trailer: {Detail}{span})"),
            TimeTagFileDamageKind.MissingChunks => string.Create(c, $"gap at byte {ByteOffset:N0} ({Detail}){tags}{span}"),
            _ => string.Create(c, $"{Chunks ?? 1} corrupt chunk{(Chunks is null or 1 ? "" : "s")} at byte {ByteOffset:N0} ({Detail}){tags}{span}"),
        };
    }
}
