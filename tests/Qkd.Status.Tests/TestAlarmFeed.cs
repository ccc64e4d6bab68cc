namespace Qkd.Status.Tests;

/// <summary>An alarm feed the test raises and clears alarms on (what the link monitor's board does in the node).</summary>
internal sealed class TestAlarmFeed : IAlarmFeed
{
    private readonly Lock _lock = new();
    private readonly List<StatusAlarm> _alarms = [];

    public void Raise(StatusAlarm alarm)
    {
        lock (_lock) _alarms.Add(alarm);
    }

    public void Clear(string kind, DateTimeOffset at)
    {
        lock (_lock)
        {
            int i = _alarms.FindLastIndex(a => a.Kind == kind && a.IsRaised);
            _alarms[i] = _alarms[i] with { ClearedAt = at };
        }
    }

    public IReadOnlyList<StatusAlarm> Alarms()
    {
        lock (_lock) return [.. _alarms];
    }
}
