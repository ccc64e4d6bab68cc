namespace Qkd.Audit;

/// <summary>
/// Where the node's parts record what happened (<see cref="AuditLog"/>; <see cref="NullAuditLog"/> when the node has no
/// "audit" section). Thread-safe; returns once the line is written under the log's durability policy.
/// </summary>
public interface IAuditLog
{
    void Write(AuditEvent auditEvent);
}

/// <summary>Records nothing: a node configured without an audit log.</summary>
public sealed class NullAuditLog : IAuditLog
{
    public static NullAuditLog Instance { get; } = new();

    public void Write(AuditEvent auditEvent)
    {
    }
}
