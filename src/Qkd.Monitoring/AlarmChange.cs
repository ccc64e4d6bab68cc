namespace Qkd.Monitoring;

/// <summary>An alarm raised or cleared, as the <see cref="AlarmBoard"/> reports it (in order, one per change).</summary>
/// <param name="Sequence">Increases by one per change on the board: a reader that missed some sees the gap.</param>
/// <param name="Raised">True when <paramref name="Alarm"/> was raised, false when it cleared.</param>
public sealed record AlarmChange(long Sequence, bool Raised, LinkAlarm Alarm);
