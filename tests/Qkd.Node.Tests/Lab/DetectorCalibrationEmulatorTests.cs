using Qkd.Emulation;
using Qkd.Emulation.TimeTagging;
using Qkd.Node.Lab;

namespace Qkd.Node.Tests.Lab;

public sealed class DetectorCalibrationEmulatorTests
{
    private static readonly LinkProfile Truth = LinkProfile.Default with
    {
        DarkCountProbabilityPerPulse = 1e-5,
        AfterpulseProbability = 0.05,
        AfterpulseDecayPs = 50_000,
        DeadTimePs = 50_000,
        DetectorEfficiency = 0.2,
    };

    private static void Log(string s) => File.AppendAllText("/tmp/det-probe.txt", s + "\n");

    [Fact]
    public void Probe()
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var result = DetectorCalibrationRun.Run(new DetectorCalibrationOptions
        {
            Profile = Truth, Seed = 11, Pulses = 1_000_000_000, MeanPhotonNumber = 0.5, LossDb = 10,
        }, TestContext.Current.CancellationToken);
        foreach (var c in result.Dark)
            Log($"dark ch{c.Channel}: clicks {c.Clicks} rate {c.PrimaryRateHz:F0}±{c.PrimaryRateUncertaintyHz:F0} dead {c.DeadTime.DeadTimePs:F0} ap {c.Afterpulses.Probability:F4}±{c.Afterpulses.ProbabilityUncertainty:F4} tau {c.Afterpulses.DecayPs:F0}±{c.Afterpulses.DecayUncertaintyPs:F0} obs {c.Afterpulses.ObservedDecayPs:F0} tail {c.Afterpulses.TailStartBin} exc {c.Afterpulses.ExcessCounts:F0} bg {c.Afterpulses.BackgroundCountsAtDeadTime:F3}");
        foreach (var c in result.Light!)
            Log($"light ch{c.Channel}: clicks {c.Clicks} rate {c.PrimaryRateHz:F0} dead {c.DeadTime.DeadTimePs:F0} ap {c.Afterpulses.Probability:F4}±{c.Afterpulses.ProbabilityUncertainty:F4} tau {c.Afterpulses.DecayPs:F0}±{c.Afterpulses.DecayUncertaintyPs:F0} r {c.Afterpulses.PrimaryRatePerPs*1e12:F0}");
        Log($"eta {result.Efficiency!.Efficiency:F4}±{result.Efficiency.EfficiencyUncertainty:F4} in {sw.Elapsed}");
    }
}
