using Qkd.Monitoring;

namespace Qkd.Monitoring.Tests;

/// <summary>What a healthy link does over hours must not alarm: slow drifts of loss and QBER under counting and per-block noise.</summary>
public sealed class NormalDriftTests
{
    [Fact]
    public void Slow_drifts_of_loss_and_QBER_over_5000_blocks_raise_no_alarm()
    {
        // About an hour of blocks: the loss wanders by 0.5 dB (temperature), the misalignment from 1 % to 1.5 %
        // (polarisation), each also jittering from block to block.
        const int blocks = 5000;
        var link = new SyntheticLink(31)
        {
            ExtraLossDb = b => 0.5 * Math.Sin(Math.PI * b / blocks),
            MisalignmentAt = b => 0.01 + 0.005 * b / blocks,
            LossNoiseDb = 0.03,
            QberNoise = 0.001,
        };
        var monitor = new LinkMonitor();
        var steps = Scenario.Run(link, monitor, blocks);
        Assert.Empty(Scenario.AllRaised(steps));
        // The baseline followed the drift.
        var loss = monitor.Statistics.Single(s => s.Name == "loss");
        Assert.InRange(loss.Baseline!.Value - loss.Value!.Value, -0.15, 0.15);
    }
}
