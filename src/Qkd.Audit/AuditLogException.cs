namespace Qkd.Audit;

/// <summary>The audit log or its key cannot be used (missing, damaged, tampered with); the message names the file.</summary>
public sealed class AuditLogException(string message, Exception? inner = null) : Exception(message, inner);
