namespace Qkd.Audit;

/// <summary>
/// A node's "audit" section: where its audit log and key live (relative to the config file). Example:
/// <c>"audit": { "log": "alice-audit.jsonl", "keyFile": "alice-audit.key" }</c>.
/// </summary>
/// <param name="Log">The active log file; its sealed head is <c>Log + ".head"</c>, rotated files <c>Log + ".&lt;first sequence, 12 digits&gt;"</c>.</param>
/// <param name="KeyFile">The audit key (`qkd node init` writes it; mode 0600). Missing while the log exists: the node refuses to start.</param>
/// <param name="MaxFileBytes">The active file is rotated before a line would take it past this size; 0: never.</param>
/// <param name="FsyncEveryLine">True (default): every line and head update reaches the disk (fsync) before
/// <see cref="IAuditLog.Write"/> returns. False: each line is handed to the operating system in one write (it survives
/// the process crashing, not the machine losing power).</param>
public sealed record AuditLogOptions(string Log, string KeyFile, long MaxFileBytes = 64L << 20, bool FsyncEveryLine = true)
{
    public IEnumerable<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(Log)) yield return "audit.log is required";
        if (string.IsNullOrWhiteSpace(KeyFile)) yield return "audit.keyFile is required";
        if (MaxFileBytes is < 0 or (> 0 and < 4096)) yield return $"audit.maxFileBytes {MaxFileBytes} must be 0 (no rotation) or at least 4096";
    }
}
