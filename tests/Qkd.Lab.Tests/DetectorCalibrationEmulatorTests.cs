using Qkd.Emulation;
using Qkd.Emulation.TimeTagging;
using Qkd.Lab;
using Qkd.Node.Link;

namespace Qkd.Lab.Tests;

/// <summary>Detector calibration against the emulator, whose dark counts, afterpulsing, dead time and efficiency are known.</summary>
public sealed class DetectorCalibrationEmulatorTests
{
    private const double FreeRunningDarkHz = 500;

    private static readonly LinkProfile Truth = LinkProfile.Default with
    {
        DarkCountProbabilityPerPulse = 1e-5,
        AfterpulseProbability = 0.05,
        AfterpulseDecayPs = 50_000,
        DeadTimePs = 50_000,
        DetectorEfficiency = 0.2,
    };

    private static readonly Lazy<DetectorCalibrationRun.Result> Measured = new(() => DetectorCalibrationRun.Run(new DetectorCalibrationOptions
    {
        Profile = Truth,
        Tagger = new EmulatedTimeTaggerOptions { DarkCountRateHz = FreeRunningDarkHz, DetectorDelaysPs = [1000, 2000, 3000, 4000] },
        Seed = 11,
        Pulses = 1_000_000_000,
        MeanPhotonNumber = 0.5,
        LossDb = 10,
    }));

    [Fact]
    public void Dark_count_rate_per_channel_is_within_10_percent_of_the_gated_and_free_running_truth()
    {
        // Gated dark counts fire with p_dark per detector and pulse; the tagger adds its free-running ones.
        double truth = Truth.DarkCountProbabilityPerPulse * LinkSettings.Default.PulseRateHz + FreeRunningDarkHz;
        Assert.Equal(4, Measured.Value.Dark.Count);
        foreach (var channel in Measured.Value.Dark)
        {
            Assert.InRange(channel.PrimaryRateHz, truth * 0.9, truth * 1.1);
            Assert.InRange(channel.PrimaryRateUncertaintyHz, 0.5 * Math.Sqrt(channel.Clicks) / channel.DurationSeconds, 2 * Math.Sqrt(channel.Clicks) / channel.DurationSeconds);
        }
    }

    [Fact]
    public void Dead_time_is_within_5_percent_with_and_without_light()
    {
        foreach (var channel in Measured.Value.Dark.Concat(Measured.Value.Light!))
        {
            Assert.True(channel.DeadTime.Found, $"channel {channel.Channel}: no edge");
            Assert.InRange(channel.DeadTime.DeadTimePs, Truth.DeadTimePs * 0.95, Truth.DeadTimePs * 1.05);
        }
    }

    [Fact]
    public void Afterpulse_probability_is_within_20_percent_and_the_decay_within_25_percent_with_the_light_blocked()
    {
        // Free-running tagger noise does not afterpulse: it dilutes the per-click probability a little.
        double gated = Truth.DarkCountProbabilityPerPulse * LinkSettings.Default.PulseRateHz;
        double darkTruth = Truth.AfterpulseProbability * gated / (gated + FreeRunningDarkHz);
        foreach (var channel in Measured.Value.Dark)
        {
            Assert.InRange(channel.Afterpulses.Probability, darkTruth * 0.8, darkTruth * 1.2);
            Assert.InRange(channel.Afterpulses.DecayPs, Truth.AfterpulseDecayPs * 0.75, Truth.AfterpulseDecayPs * 1.25);
        }
        // With bright light the background under the afterpulses is large and its extrapolated slope dominates the
        // error: the estimate must agree within three of its own standard deviations, which stay below 0.01.
        foreach (var channel in Measured.Value.Light!)
        {
            var fit = channel.Afterpulses;
            Assert.InRange(fit.ProbabilityUncertainty, 1e-4, 0.01);
            Assert.InRange(fit.Probability, Truth.AfterpulseProbability - 3 * fit.ProbabilityUncertainty, Truth.AfterpulseProbability + 3 * fit.ProbabilityUncertainty);
            Assert.InRange(channel.Afterpulses.DecayPs, Truth.AfterpulseDecayPs * 0.75, Truth.AfterpulseDecayPs * 1.25);
        }
    }

    [Fact]
    public void Efficiency_from_mu_and_loss_is_within_10_percent()
    {
        var efficiency = Measured.Value.Efficiency!;
        Assert.InRange(efficiency.Efficiency, Truth.DetectorEfficiency * 0.9, Truth.DetectorEfficiency * 1.1);
        Assert.True(efficiency.EfficiencyUncertainty > 0 && efficiency.EfficiencyUncertainty < 0.01);
        Assert.Equal(0.1, efficiency.Transmittance, 9);
    }
}
