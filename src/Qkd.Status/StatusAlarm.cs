namespace Qkd.Status;

/// <summary>
/// One alarm of the link monitor as the status page shows it (the fields of the monitor's <c>LinkAlarm</c>, which the
/// node adapts through an <see cref="IAlarmFeed"/>). Raised while <see cref="ClearedAt"/> is null.
/// </summary>
/// <param name="Kind">What was detected, a short stable name ("loss_step", "qber_rise", "blinding", ...).</param>
/// <param name="ThreatensSecurity">True when key generation stops while the alarm is raised.</param>
/// <param name="RaisedAt">When the alarm was raised.</param>
/// <param name="ClearedAt">When it cleared; null while it is raised.</param>
/// <param name="BlockId">The block in which it was detected, if it came from a block.</param>
/// <param name="Message">The monitor's sentence for the operator.</param>
/// <param name="Value">The monitored value that crossed the threshold (in the unit of the alarm kind), if any.</param>
/// <param name="Threshold">The threshold it crossed, same unit.</param>
public sealed record StatusAlarm(string Kind, bool ThreatensSecurity, DateTimeOffset RaisedAt, DateTimeOffset? ClearedAt, long? BlockId,
    string Message, double? Value, double? Threshold)
{
    public bool IsRaised => ClearedAt is null;
}
