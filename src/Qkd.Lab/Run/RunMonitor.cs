using Qkd.Acquisition;
using Qkd.Distillation;
using Qkd.Monitoring;
using Qkd.Node.Link;
using Qkd.Node.Metrics;

namespace Qkd.Lab.Run;

/// <summary>
/// The link monitor (Qkd.Monitoring) in a run of <see cref="EmulatedLinkRunner"/>: each block Bob's distiller finishes
/// becomes one <see cref="BlockObservation"/> (sifted counts and errors, pulse span, and the receiver's counters over the
/// block's interval: clicks per detector, tags in and out of the gate, arrival times), fed to a <see cref="Qkd.Monitoring.LinkMonitor"/>.
/// Watches only: a run does not hold key on an alarm (a node does, through its NodeLinkMonitor); the alarms go to the
/// log, the summary and the report. The observations are kept (<see cref="Observations"/>) so that the breach drill can
/// replay a clean run and an attacked one through a monitor of its own. Counts only: no key material.
/// Called on the distiller's thread (its block events), which with concurrent stages runs blocks behind the acquisition:
/// the receiver's counts are therefore taken at the block's last pulse from clock recovery's history, never from the
/// live counters (issue 15).
/// </summary>
public sealed class RunMonitor
{
    private readonly LinkSettings _settings;
    private readonly double _bobProbabilityZ;
    private readonly ReceiverCounts _receiver = new();
    private readonly List<BlockObservation> _observations = [];
    private readonly List<LinkAlarm> _raised = [];

    public RunMonitor(MonitorOptions? options, LinkSettings settings, double bobProbabilityZ)
    {
        _settings = settings;
        _bobProbabilityZ = bobProbabilityZ;
        Monitor = new Qkd.Monitoring.LinkMonitor(options ?? MonitorOptions.Default);
    }

    public Qkd.Monitoring.LinkMonitor Monitor { get; }

    /// <summary>Blocks whose observation the monitor refused as inconsistent (skipped).</summary>
    public int Rejected { get; private set; }

    /// <summary>One observation per block observed, in order.</summary>
    public IReadOnlyList<BlockObservation> Observations => _observations;

    /// <summary>The observation of one finished block, or null when it has no pulse span (it says nothing about gains).</summary>
    public static BlockObservation? Observation(BlockResult block, LinkSettings settings, double bobProbabilityZ, ReceiverInterval? receiver)
    {
        ArgumentNullException.ThrowIfNull(block);
        long span = double.IsFinite(block.LightSeconds) ? (long)Math.Round(block.LightSeconds * settings.PulseRateHz) : 0;
        if (span <= 0) return null;
        var distillation = settings.Distillation();
        return SiftedBlock.Observation(block.BlockId, DateTimeOffset.UtcNow, span, distillation.MeanPhotonNumbers, distillation.IntensityProbabilities,
            settings.AliceProbabilityZ, bobProbabilityZ, block.SiftedZPerIntensity, block.SiftedXPerIntensity, block.ErrorsZPerIntensity,
            block.ErrorsXPerIntensity, settings.PulseRateHz, receiver);
    }

    /// <summary>
    /// Observes one finished block (any outcome), with the receiver's counts over its pulses since the previous one
    /// (<see cref="BlockReceiverCounts"/>); <paramref name="pulseOffset"/> is frame synchronisation's offset (Alice's
    /// pulse index minus the front end's).
    /// </summary>
    public void Observe(BlockResult block, TimeTagFrontEnd? frontEnd, long pulseOffset)
    {
        ArgumentNullException.ThrowIfNull(block);
        var receiver = frontEnd is null ? null : BlockReceiverCounts.Take(_receiver, frontEnd, block, pulseOffset);
        if (Observation(block, _settings, _bobProbabilityZ, receiver) is not { } observation) return;
        MonitorStep step;
        try
        {
            step = Monitor.Observe(observation);
        }
        catch (ArgumentException)
        {
            Rejected++; // inconsistent counts (a counter restarted): the monitor skips the block rather than stop the run
            return;
        }
        _observations.Add(observation);
        _raised.AddRange(step.Raised);
        foreach (var cleared in step.Cleared)
        {
            int i = _raised.FindIndex(a => a.Id == cleared.Id);
            if (i >= 0) _raised[i] = cleared;
        }
    }

    /// <summary>What the report says: blocks observed, every alarm raised (with its clearing, when it cleared).</summary>
    public MonitorRunReport Report()
    {
        var alarms = _raised.Select(RunAlarm.From).ToList();
        return new MonitorRunReport(Monitor.Options.Enabled, _observations.Count, Rejected, Monitor.Options.WarmupBlocks, alarms,
            "a run watches only: key is not held on an alarm (a node holds it while an alarm that threatens security is raised)");
    }
}

/// <summary>The link monitor's part of a run report.</summary>
/// <param name="Enabled">Whether alarms were raised at all (the monitor's <c>enabled</c> setting).</param>
/// <param name="BlocksObserved">Blocks fed to the monitor.</param>
/// <param name="BlocksRejected">Blocks whose counts were inconsistent (skipped, counted).</param>
/// <param name="WarmupBlocks">Blocks that learnt the baselines (no alarm before them).</param>
/// <param name="Alarms">Every alarm raised, in order, with its clearing when it cleared.</param>
/// <param name="KeyHold">What the alarms did to the key.</param>
public sealed record MonitorRunReport(bool Enabled, int BlocksObserved, int BlocksRejected, int WarmupBlocks, IReadOnlyList<RunAlarm> Alarms, string KeyHold);

/// <summary>One link alarm in a run report (values in <see cref="Unit"/>; no key material).</summary>
public sealed record RunAlarm(string Kind, string Statistic, bool ThreatensSecurity, long BlockId, string Message, double Value, double Baseline,
    double Sigma, string Unit, long? ClearedBlockId)
{
    public static RunAlarm From(LinkAlarm alarm)
    {
        ArgumentNullException.ThrowIfNull(alarm);
        return new RunAlarm(alarm.Kind.ToString(), alarm.Statistic, alarm.ThreatensSecurity, alarm.BlockId, alarm.Message, alarm.Value, alarm.Baseline,
            alarm.Sigma, alarm.Unit, alarm.ClearedBlockId);
    }
}
