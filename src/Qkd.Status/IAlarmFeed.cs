namespace Qkd.Status;

/// <summary>
/// Where the status page reads alarms from: the node composes one over its link monitor's alarm board (or
/// <see cref="NoAlarms"/> when it has none). Called once per status request, from any thread.
/// </summary>
public interface IAlarmFeed
{
    /// <summary>Every alarm still raised and those cleared recently, oldest first; the page draws the last hour.</summary>
    IReadOnlyList<StatusAlarm> Alarms();
}

/// <summary>The feed of a node without a link monitor.</summary>
public sealed class NoAlarms : IAlarmFeed
{
    public static NoAlarms Instance { get; } = new();

    public IReadOnlyList<StatusAlarm> Alarms() => [];
}
