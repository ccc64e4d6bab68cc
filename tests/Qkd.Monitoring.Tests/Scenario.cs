using Qkd.Monitoring;

namespace Qkd.Monitoring.Tests;

/// <summary>Runs a synthetic link through a monitor and finds the first alarm of a kind.</summary>
internal static class Scenario
{
    public static List<MonitorStep> Run(SyntheticLink link, LinkMonitor monitor, long blocks, long first = 0)
    {
        var steps = new List<MonitorStep>();
        for (long b = first; b < first + blocks; b++) steps.Add(monitor.Observe(link.Block(b)));
        return steps;
    }

    /// <summary>The block on which the first alarm of <paramref name="kind"/> was raised, or null.</summary>
    public static long? FirstRaised(IEnumerable<MonitorStep> steps, AlarmKind kind) =>
        steps.SelectMany(s => s.Raised).FirstOrDefault(a => a.Kind == kind)?.BlockId;

    public static IEnumerable<LinkAlarm> AllRaised(IEnumerable<MonitorStep> steps) => steps.SelectMany(s => s.Raised);
}
