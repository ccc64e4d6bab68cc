namespace Qkd.Audit;

/// <summary>
/// One line of the log as JSON, before its MAC: the sequence number (from 0, continuing across rotated files), the time
/// it was written (UTC), the SHA-256 of the previous line's bytes (hex; 64 zeros for sequence 0) and the event. The line
/// on disk is this object with <c>,"mac":"…"</c> appended inside its closing brace (<see cref="AuditLineCodec"/>).
/// </summary>
public sealed record AuditEntry(long Seq, DateTimeOffset Time, string Prev, AuditEvent Event);

/// <summary>
/// The sealed head (checkpoint) kept beside the log (<c>FILE.head</c>): the last sequence number written and that line's
/// hash, under the same key. The log alone cannot show that lines were cut from its end; the head can.
/// </summary>
public sealed record AuditHead(long Seq, string Hash, DateTimeOffset Time);
