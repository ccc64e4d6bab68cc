namespace Qkd.Monitoring;

/// <summary>
/// What the events endpoint serves (GET /events): the alarms raised now, the recent changes, whether key is held, and
/// the last block's estimates and statistics. <see cref="MonitorJson"/> writes it.
/// </summary>
/// <param name="Sequence">The board's last change; a poller that saw it already has nothing new.</param>
public sealed record MonitorSnapshot(string Link, string Role, long Sequence, long Blocks, bool KeyHeld, string? KeyHoldReason,
    IReadOnlyList<LinkAlarm> Active, IReadOnlyList<AlarmChange> Recent, LinkEstimates? Latest, IReadOnlyList<StatisticState> Statistics)
{
    public static MonitorSnapshot Of(LinkMonitor monitor, string link, string role)
    {
        ArgumentNullException.ThrowIfNull(monitor);
        var board = monitor.Board;
        return new MonitorSnapshot(link, role, board.Sequence, monitor.Blocks, board.HoldsKey, board.KeyHoldReason, board.Current, board.History,
            monitor.Latest, monitor.Statistics);
    }
}
