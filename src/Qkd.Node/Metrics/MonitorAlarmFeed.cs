using Qkd.Monitoring;
using Qkd.Status;

namespace Qkd.Node.Metrics;

/// <summary>
/// The status page's alarms from the link monitor's board: every alarm still raised, and those the board's history
/// still remembers as cleared, each once in its latest state, oldest first.
/// </summary>
public sealed class MonitorAlarmFeed(AlarmBoard board) : IAlarmFeed
{
    public IReadOnlyList<StatusAlarm> Alarms()
    {
        var latest = new Dictionary<long, LinkAlarm>();
        foreach (var change in board.History) latest[change.Alarm.Id] = change.Alarm;
        foreach (var alarm in board.Current) latest[alarm.Id] = alarm;
        return latest.Values.OrderBy(a => a.Id).Select(a => new StatusAlarm(KindName(a.Kind), a.ThreatensSecurity, a.RaisedAt, a.ClearedAt, a.BlockId,
            a.Message, double.IsFinite(a.Value) ? a.Value : null, double.IsFinite(a.Threshold) ? a.Threshold : null)).ToList();
    }

    /// <summary>The kind as the page shows it: "LossStep" becomes "loss_step".</summary>
    private static string KindName(AlarmKind kind) =>
        string.Concat(kind.ToString().Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
