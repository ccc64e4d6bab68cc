namespace Qkd.Audit;

/// <summary>Why a log fails verification: the first problem found, at the first bad line.</summary>
public enum AuditProblem
{
    /// <summary>A line is not a sealed audit line (no MAC field at its end, or not the log's JSON).</summary>
    Malformed,

    /// <summary>A line's MAC does not match: the line was edited, or inserted by someone without the key.</summary>
    Edited,

    /// <summary>No line authenticates with this key: the log was written (or forged whole) with another key.</summary>
    WrongKey,

    /// <summary>Sequence numbers skip: lines are missing.</summary>
    Removed,

    /// <summary>A line's sequence number belongs later or earlier: lines were moved or duplicated.</summary>
    Reordered,

    /// <summary>A line authenticates but does not carry the previous line's hash: it comes from another log.</summary>
    ChainBroken,

    /// <summary>The first line is not sequence 0: the start of the log (lines or rotated files) is missing.</summary>
    StartMissing,

    /// <summary>The last line has no line end: the file was cut in the middle of a line.</summary>
    IncompleteLine,

    /// <summary>The head file records a later line than the log holds: lines were cut from the end.</summary>
    Truncated,

    /// <summary>The head file is missing, does not authenticate, or seals another line than the log holds.</summary>
    HeadMismatch,

    /// <summary>There is no log at the path.</summary>
    Missing,
}
