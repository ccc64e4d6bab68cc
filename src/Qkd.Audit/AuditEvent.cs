namespace Qkd.Audit;

/// <summary>
/// One thing that happened, as the audit log records it: a kind and the fields that kind uses (the others are null and
/// left out of the line). Never key material or anything derived from it: key deliveries carry key IDs and SAE IDs.
/// Build one with the factories below.
/// </summary>
public sealed record AuditEvent
{
    public required AuditEventKind Kind { get; init; }

    /// <summary>The session number (the handshake's), when known.</summary>
    public long? Session { get; init; }

    /// <summary>Why a session aborted or how it closed; an alarm's detail.</summary>
    public string? Reason { get; init; }

    /// <summary>The node's role and link ("alice", "demo-link") at start.</summary>
    public string? Role { get; init; }
    public string? LinkId { get; init; }

    /// <summary>The configuration file and the SHA-256 of its bytes (hex).</summary>
    public string? ConfigFile { get; init; }
    public string? ConfigSha256 { get; init; }

    /// <summary>The hash the previous start recorded (configurationChanged only).</summary>
    public string? PreviousConfigSha256 { get; init; }

    /// <summary>"enc_keys" (the caller is the master SAE) or "dec_keys" (the slave SAE).</summary>
    public string? Operation { get; init; }
    public string? MasterSaeId { get; init; }
    public string? SlaveSaeId { get; init; }
    public IReadOnlyList<Guid>? KeyIds { get; init; }

    /// <summary>The alarm's name (for example "qber-rise", "loss-step") and severity.</summary>
    public string? Alarm { get; init; }
    public string? Severity { get; init; }

    public static AuditEvent NodeStarted(string role, string linkId, string? configFile, string? configSha256) =>
        new() { Kind = AuditEventKind.NodeStarted, Role = role, LinkId = linkId, ConfigFile = configFile, ConfigSha256 = configSha256 };

    public static AuditEvent ConfigurationChanged(string? configFile, string? previousSha256, string? currentSha256) =>
        new() { Kind = AuditEventKind.ConfigurationChanged, ConfigFile = configFile, PreviousConfigSha256 = previousSha256, ConfigSha256 = currentSha256 };

    public static AuditEvent NodeStopped(string? reason = null) => new() { Kind = AuditEventKind.NodeStopped, Reason = reason };

    public static AuditEvent SessionStarted(long? session = null) => new() { Kind = AuditEventKind.SessionStarted, Session = session };

    public static AuditEvent SessionEnded(long session, string? closing = null) => new() { Kind = AuditEventKind.SessionEnded, Session = session, Reason = closing };

    public static AuditEvent SessionAborted(string reason, long? session = null) => new() { Kind = AuditEventKind.SessionAborted, Session = session, Reason = reason };

    /// <param name="operation">"enc_keys" or "dec_keys".</param>
    public static AuditEvent KeysDelivered(string operation, string masterSaeId, string slaveSaeId, IReadOnlyList<Guid> keyIds) =>
        new() { Kind = AuditEventKind.KeysDelivered, Operation = operation, MasterSaeId = masterSaeId, SlaveSaeId = slaveSaeId, KeyIds = keyIds };

    /// <summary>For the link monitor's alarm board (its raised event): the alarm's name, severity and a detail line.</summary>
    public static AuditEvent AlarmRaised(string alarm, string severity, string? detail = null) =>
        new() { Kind = AuditEventKind.AlarmRaised, Alarm = alarm, Severity = severity, Reason = detail };

    /// <summary>For the link monitor's alarm board (its cleared event).</summary>
    public static AuditEvent AlarmCleared(string alarm, string? detail = null) =>
        new() { Kind = AuditEventKind.AlarmCleared, Alarm = alarm, Reason = detail };
}
