using Qkd.Monitoring;

namespace Qkd.Monitoring.Tests;

/// <summary>A fibre tap or bend: a sudden extra loss of 0.3 dB on the default 25 km link.</summary>
public sealed class LossStepDetectionTests
{
    private const long StepBlock = 20;

    /// <summary>The README's figure: with the default thresholds the loss alarm comes on the 1st to 3rd block after the step.</summary>
    public const int MaxDelayBlocks = 3;

    [Fact]
    public void A_0p3_dB_loss_step_at_25_km_raises_a_loss_alarm_within_3_blocks_on_every_seed()
    {
        var delays = new List<long>();
        for (int seed = 1; seed <= 50; seed++)
        {
            // Per-block transmittance noise of 0.02 dB on top of counting: a steadier link than the floor assumes.
            var link = new SyntheticLink(seed) { ExtraLossDb = b => b >= StepBlock ? 0.3 : 0, LossNoiseDb = 0.02, QberNoise = 0.001 };
            var monitor = new LinkMonitor();
            var steps = Scenario.Run(link, monitor, StepBlock + 10);
            Assert.Empty(Scenario.AllRaised(steps.Take((int)StepBlock)));
            long? raised = Scenario.FirstRaised(steps, AlarmKind.LossStep);
            Assert.NotNull(raised);
            long delay = raised!.Value - StepBlock + 1; // 1: on the step's own block
            delays.Add(delay);
            Assert.InRange(delay, 1, MaxDelayBlocks);
            var alarm = monitor.Board.Current.Single(a => a.Kind == AlarmKind.LossStep);
            Assert.Equal("loss", alarm.Statistic);
            Assert.Equal("dB", alarm.Unit);
            Assert.InRange(alarm.Value - alarm.Baseline, 0.2, 0.4);
            Assert.False(alarm.ThreatensSecurity); // default: the decoy bound already charges lost photons to Eve
            Assert.False(monitor.Board.HoldsKey);
            // A tap costs key but no QBER, and the decoy and signal gains fall alike: no other alarm.
            Assert.All(Scenario.AllRaised(steps), a => Assert.Equal(AlarmKind.LossStep, a.Kind));
        }
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"0.3 dB at 25 km, 50 seeds: detection delay (blocks, 1 = the step's own block): mean {delays.Average():F2}, max {delays.Max()}; " +
            string.Join(" ", delays.GroupBy(d => d).OrderBy(g => g.Key).Select(g => $"{g.Key}:{g.Count()}")));
        Assert.True(delays.Max() <= MaxDelayBlocks, $"delays {string.Join(",", delays)}");
    }

    [Fact]
    public void With_lossStopsKey_a_loss_step_holds_key_until_the_loss_returns()
    {
        var link = new SyntheticLink(3) { ExtraLossDb = b => b is >= StepBlock and < StepBlock + 10 ? 0.3 : 0 };
        var monitor = new LinkMonitor(new MonitorOptions { LossStopsKey = true });
        Scenario.Run(link, monitor, StepBlock + 3);
        Assert.True(monitor.Board.HoldsKey);
        Assert.Contains("LossStep", monitor.Board.KeyHoldReason);
        var steps = Scenario.Run(link, monitor, 20, first: StepBlock + 3);
        var cleared = steps.SelectMany(s => s.Cleared).Single();
        Assert.Equal(AlarmKind.LossStep, cleared.Kind);
        // Cleared after ClearBlocks (3) blocks back within k sigmas: on the 3rd block after the loss returned.
        Assert.Equal(StepBlock + 10 + 2, cleared.ClearedBlockId);
        Assert.False(monitor.Board.HoldsKey);
    }

    [Fact]
    public void Light_blocked_raises_a_loss_alarm_on_the_first_dark_block()
    {
        var link = new SyntheticLink(5) { ExtraLossDb = b => b >= StepBlock ? 200 : 0 };
        var steps = Scenario.Run(link, new LinkMonitor(), StepBlock + 2);
        Assert.Equal(StepBlock, Scenario.FirstRaised(steps, AlarmKind.LossStep));
    }
}
