namespace Qkd.Audit;

/// <summary>
/// What <see cref="AuditVerifier"/> found: OK with the number of lines, the sequence range and the time span, or the
/// first bad line (its file, line number in that file, the problem and why).
/// </summary>
public sealed record AuditVerification
{
    public bool Ok => Problem is null;

    /// <summary>Lines that verified (all of them when <see cref="Ok"/>).</summary>
    public long Lines { get; init; }

    /// <summary>Files read in chain order (rotated files first, the active file last).</summary>
    public IReadOnlyList<string> Files { get; init; } = [];

    public DateTimeOffset? FirstTime { get; init; }
    public DateTimeOffset? LastTime { get; init; }

    /// <summary>The last verified line's sequence number (-1: none) and hash (the genesis hash: none).</summary>
    public long LastSeq { get; init; } = -1;
    public string LastHash { get; init; } = AuditLineCodec.Genesis;

    /// <summary>The head file's sequence number (-1: an empty log's head; null: no head read).</summary>
    public long? HeadSeq { get; init; }

    /// <summary>The configuration hash of the last nodeStarted line (to record a change at the next start).</summary>
    public string? LastConfigSha256 { get; init; }

    /// <summary>The active file's first sequence number and size (what the writer continues from).</summary>
    internal long ActiveFirstSeq { get; init; }
    internal long ActiveBytes { get; init; }

    public AuditProblem? Problem { get; init; }

    /// <summary>The file and 1-based line number of the first bad line (null for a problem of the whole log or its head).</summary>
    public string? BadFile { get; init; }
    public long? BadLine { get; init; }

    /// <summary>A sentence saying what is wrong, for the operator.</summary>
    public string? Reason { get; init; }

    /// <summary>One line for the operator: "OK: …" or "FAIL: FILE line N: problem: reason".</summary>
    public string Summary()
    {
        if (Ok)
        {
            string span = FirstTime is { } first && LastTime is { } last
                ? $", {first.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} .. {last.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} ({Format(last - first)})"
                : "";
            return $"OK: {Lines} line(s){(Lines > 0 ? $", sequence 0..{LastSeq}" : "")}{span}; {Files.Count} file(s); head at sequence {HeadSeq}";
        }
        string where = BadFile is null ? "" : BadLine is null ? $"{BadFile}: " : $"{BadFile} line {BadLine}: ";
        return $"FAIL: {where}{ProblemName(Problem!.Value)}: {Reason}";
    }

    public static string ProblemName(AuditProblem problem) => problem switch
    {
        AuditProblem.Malformed => "malformed",
        AuditProblem.Edited => "edited",
        AuditProblem.WrongKey => "wrong key",
        AuditProblem.Removed => "removed",
        AuditProblem.Reordered => "reordered",
        AuditProblem.ChainBroken => "inserted or from another log",
        AuditProblem.StartMissing => "start missing",
        AuditProblem.IncompleteLine => "truncated",
        AuditProblem.Truncated => "truncated",
        AuditProblem.HeadMismatch => "head mismatch",
        AuditProblem.Missing => "missing",
        _ => problem.ToString(),
    };

    private static string Format(TimeSpan span) =>
        span.TotalDays >= 1 ? $"{span.TotalDays:0.#} d" : span.TotalHours >= 1 ? $"{span.TotalHours:0.#} h" : span.TotalMinutes >= 1 ? $"{span.TotalMinutes:0.#} min" : $"{span.TotalSeconds:0.###} s";
}
