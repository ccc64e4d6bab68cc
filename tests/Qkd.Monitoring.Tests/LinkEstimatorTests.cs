using Qkd.Core;
using Qkd.Monitoring;

namespace Qkd.Monitoring.Tests;

public sealed class LinkEstimatorTests
{
    [Fact]
    public void Estimates_of_the_default_link_match_its_physics()
    {
        var link = new SyntheticLink(41);
        var estimates = LinkEstimator.Estimate(link.Block(0));
        double eta = link.Transmittance(0);
        Assert.InRange(estimates.Transmittance!.Value / eta, 0.99, 1.01);
        Assert.InRange(estimates.LossDb!.Value, 12.5, 12.6); // 5 + 1.5 dB and 6.02 dB of detector efficiency
        Assert.InRange(estimates.DecoyLossDb!.Value - estimates.LossDb.Value, -0.02, 0.02);
        Assert.InRange(estimates.BackgroundYield!.Value, 3.5e-6, 4.5e-6);
        Assert.InRange(estimates.DarkCountRateHz!.Value, 3.5e3, 4.5e3);
        Assert.InRange(estimates.QberZ!.Value, 0.0095, 0.0106);
        Assert.InRange(estimates.QberXPerIntensity[(int)Intensity.Vacuum]!.Value, 0.3, 0.7); // dark counts: random bits
        Assert.Equal(1, estimates.DetectorShares!.Sum(), 9);
        Assert.InRange(estimates.DetectorShares[0], 0.37, 0.38);
        Assert.InRange(estimates.InGateShare!.Value, 0.9, 1);
    }

    [Fact]
    public void The_loss_sigma_from_counts_matches_the_scatter_of_the_estimates()
    {
        // 2^16 sifted bits a block, no extra noise: the spread of the loss is counting alone.
        var link = new SyntheticLink(42) { BlockSiftedZ = 1 << 16 };
        var losses = Enumerable.Range(0, 400).Select(b => LinkEstimator.Estimate(link.Block(b)).LossDb!.Value).ToArray();
        double mean = losses.Average();
        double scatter = Math.Sqrt(losses.Sum(l => (l - mean) * (l - mean)) / (losses.Length - 1));
        var block = link.Block(0);
        double sigma = LinkEstimator.LossSigmaDb(mean, 0.5, 4e-6, block.Pulses[0]);
        Assert.InRange(scatter / sigma, 0.85, 1.15);
    }

    [Fact]
    public void A_dark_block_reads_the_loss_cap_not_infinity()
    {
        Assert.Equal(LinkEstimator.MaxLossDb, LinkEstimator.LossDb(1e-6, 0.5, 1e-6));
        Assert.Equal(LinkEstimator.MaxLossDb, LinkEstimator.LossDb(0, 0.5, 1e-6));
    }

    [Fact]
    public void Inconsistent_observations_are_refused_naming_the_field()
    {
        var good = new SyntheticLink(43).Block(0);
        var e = Assert.Throws<ArgumentException>(() => LinkEstimator.Estimate(good with { Detections = [1, 2] }));
        Assert.Contains("Detections", e.Message);
        e = Assert.Throws<ArgumentException>(() => LinkEstimator.Estimate(good with { ErrorsZ = [good.SiftedZ![0] + 1, 0, 0] }));
        Assert.Contains("ErrorsZ[Signal]", e.Message);
        var monitor = new LinkMonitor();
        Assert.Throws<ArgumentException>(() => monitor.Observe(good with { Pulses = [-1, 1, 1] }));
        Assert.Equal(0, monitor.Blocks);
    }
}
