using Qkd.Monitoring;

namespace Qkd.Lab.Drill;

/// <summary>
/// The link monitor (<see cref="Qkd.Monitoring.LinkMonitor"/>, the one every node runs) as a detection source: a fresh
/// monitor learns its baselines from the drill's clean baseline run (<see cref="DrillObservation.BaselineBlocks"/>; the
/// first <see cref="MonitorOptions.WarmupBlocks"/> blocks, the rest follow while calm), then watches the attacked run's
/// blocks (<see cref="DrillObservation.MonitorBlocks"/>) in order. Every alarm raised on the attacked run is one drill
/// alarm, named by its kind and statistic ("LossStep on loss"), at the link time of the raising block's last pulse.
/// Without a baseline run it learns from the run's own blocks before the attack (at least one).
/// </summary>
/// <param name="options">The monitor's thresholds; null: a node's defaults.</param>
public sealed class LinkMonitorDetector(MonitorOptions? options = null) : IDrillDetector
{
    public string Name => "link monitor";

    public MonitorOptions Options { get; } = options ?? MonitorOptions.Default;

    public IReadOnlyList<DrillAlarm> Inspect(DrillObservation observation)
    {
        ArgumentNullException.ThrowIfNull(observation);
        var report = observation.Report;
        IReadOnlyList<BlockObservation> learn = observation.BaselineBlocks;
        IReadOnlyList<BlockObservation> watch = observation.MonitorBlocks;
        if (learn.Count == 0)
        {
            // No baseline run: the blocks wholly before the attack teach the monitor.
            var clean = report.Blocks.Where(b => !DrillObservation.Touched(b, observation.OnsetPulse)).Select(b => b.BlockId).ToHashSet();
            learn = watch.Where(o => clean.Contains(o.BlockId)).ToList();
            watch = watch.Where(o => !clean.Contains(o.BlockId)).ToList();
        }
        if (learn.Count == 0 || watch.Count == 0) return [];
        var monitor = new Qkd.Monitoring.LinkMonitor(Options with { WarmupBlocks = Math.Min(Options.WarmupBlocks, learn.Count) });
        foreach (var block in learn) monitor.Observe(block);
        // What the baseline run itself raised stays there: the drill asks about the attacked run.
        var alarms = new List<DrillAlarm>();
        var lastPulse = report.Blocks.ToDictionary(b => b.BlockId, b => b.LastPulse);
        foreach (var block in watch)
        {
            var step = monitor.Observe(block);
            foreach (LinkAlarm alarm in step.Raised)
            {
                double at = lastPulse.TryGetValue(block.BlockId, out long? last) && last is long pulse ? observation.SecondsOf(pulse) : report.LinkSeconds;
                alarms.Add(new DrillAlarm(Name, $"{alarm.Kind} on {alarm.Statistic}", alarm.Message, at, block.BlockId, alarm.ThreatensSecurity));
            }
        }
        return alarms;
    }
}
