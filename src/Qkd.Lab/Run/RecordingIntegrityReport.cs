using System.Globalization;
using Qkd.Acquisition.Replay;

namespace Qkd.Lab.Run;

/// <summary>
/// A recording's completeness as a replay found it, in a run report and in every lab tool that reads recordings: the
/// damaged stretches (what, where, tags and time lost), the link time the intact tags really cover and the length
/// the metadata claims. A damaged recording is refused (<see cref="DamagedRecordingException"/>) unless the user
/// accepted the damage; then rates and gains are taken over <see cref="CoveredSeconds"/>, never the claimed length.
/// </summary>
/// <param name="File">The recording.</param>
/// <param name="Intact">Read to the end with its trailer, nothing corrupt or missing.</param>
/// <param name="Truncated">The file ends without its trailer (cut off).</param>
/// <param name="TrailerSeen">The writer's trailer was found.</param>
/// <param name="TagsRead">Tags in intact chunks (the only ones replayed).</param>
/// <param name="CorruptChunks">Corrupt chunks and damaged regions skipped.</param>
/// <param name="TagsLost">Tags lost: exact from the trailer, else what damaged chunk headers state (a lower bound); null when nothing says.</param>
/// <param name="TagsLostExact">Whether <see cref="TagsLost"/> is exact.</param>
/// <param name="TagsLostEstimate">Tags lost estimated from the time lost at the recording's mean tag rate; null when no time is known lost.</param>
/// <param name="CoveredSeconds">Link time the intact tags cover: first to last intact tag, less the stretches lost between.</param>
/// <param name="ClaimedSeconds">The length the recording's metadata claims (pulses over pulse rate); null when it says nothing.</param>
/// <param name="LostSeconds">Claimed less covered when a length is claimed, else the time lost between intact tags.</param>
/// <param name="Accepted">The user accepted the damage (the replay went ahead over <see cref="CoveredSeconds"/>).</param>
/// <param name="Damage">Every damaged stretch, in file order.</param>
public sealed record RecordingIntegrityReport(
    string File,
    bool Intact,
    bool Truncated,
    bool TrailerSeen,
    long TagsRead,
    long CorruptChunks,
    long? TagsLost,
    bool TagsLostExact,
    long? TagsLostEstimate,
    double CoveredSeconds,
    double? ClaimedSeconds,
    double? LostSeconds,
    bool Accepted,
    IReadOnlyList<RecordingDamageReport> Damage)
{
    /// <summary>What a capture's source says after the damage summary when the damage was accepted.</summary>
    public const string AcceptedNote = "damage accepted";

    /// <summary>The report of what a reader found in <paramref name="file"/>.</summary>
    /// <param name="claimedSeconds">The length the recording's metadata claims, if it claims one.</param>
    /// <param name="accepted">Whether the user accepted a damaged file.</param>
    public static RecordingIntegrityReport From(string file, TimeTagFileIntegrity integrity, double? claimedSeconds, bool accepted)
    {
        ArgumentNullException.ThrowIfNull(integrity);
        double covered = integrity.CoveredPs / 1e12;
        double? lost = claimedSeconds is double claimed ? Math.Max(0, claimed - covered)
            : integrity.InteriorLostPs > 0 ? integrity.InteriorLostPs / 1e12 : null;
        if (integrity.IsIntact) lost = 0;
        long? estimate = lost is double l && l > 0 && covered > 0 ? (long)Math.Round(l * integrity.TagsRead / covered) : null;
        var damage = integrity.Damage.Select(d => new RecordingDamageReport(
            d.Kind switch
            {
                TimeTagFileDamageKind.Truncated => "truncated",
                TimeTagFileDamageKind.MissingChunks => "missingChunks",
                _ => "corruptChunks",
            },
            d.ByteOffset, d.Chunks, d.TagsLost, d.FromPs / 1e12, d.ToPs / 1e12, d.LostPs / 1e12, d.Describe())).ToList();
        return new RecordingIntegrityReport(file, integrity.IsIntact, integrity.IsTruncated, integrity.TrailerSeen, integrity.TagsRead,
            integrity.CorruptChunks, integrity.TagsLost, integrity.TagsLostExact, estimate, covered, claimedSeconds, lost, accepted, damage);
    }

    /// <summary>
    /// One line naming the damage: "damaged recording: truncated at byte ... ; covers 0.0499 s of the 0.1 s its metadata
    /// claims (0.0501 s and about 1,234 tags lost)".
    /// </summary>
    public string Summary()
    {
        var c = CultureInfo.InvariantCulture;
        if (Intact) return string.Create(c, $"intact recording: {TagsRead:N0} tags over {CoveredSeconds:G4} s");
        string what = string.Join("; ", Damage.Select(d => d.Description));
        string tags = TagsLost is long n && (TagsLostExact || TagsLostEstimate is null)
            ? string.Create(c, $"{(TagsLostExact ? "" : "at least ")}{n:N0} tags")
            : TagsLostEstimate is long e ? string.Create(c, $"about {e:N0} tags") : "an unknown number of tags";
        string time = ClaimedSeconds is double claimed
            ? string.Create(c, $"covers {CoveredSeconds:G4} s of the {claimed:G4} s its metadata claims ({LostSeconds ?? 0:G4} s and {tags} lost)")
            : string.Create(c, $"covers {CoveredSeconds:G4} s ({(LostSeconds is double l ? l.ToString("G4", c) + " s" : "an unknown time")} and {tags} lost)");
        return $"damaged recording: {what}; {time}";
    }

    /// <summary>Throws <see cref="DamagedRecordingException"/> for a damaged recording the user has not accepted.</summary>
    public void ThrowIfRefused()
    {
        if (!Intact && !Accepted) throw new DamagedRecordingException(this);
    }
}

/// <summary>One damaged stretch of a recording (times in seconds of tagger time).</summary>
/// <param name="Kind">"corruptChunks", "missingChunks" or "truncated".</param>
public sealed record RecordingDamageReport(
    string Kind,
    long ByteOffset,
    int? Chunks,
    long? TagsLost,
    double? FromSeconds,
    double? ToSeconds,
    double? LostSeconds,
    string Description);
