using Qkd.Core;
using Qkd.Emulation;
using Qkd.Emulation.Firmware;
using Qkd.Emulation.TimeTagging;
using Qkd.Node.Devices;
using Qkd.Lab;
using Qkd.Node.Link;

namespace Qkd.Lab.Tests;

/// <summary>The gate and alignment sweeps find what the emulator hides, through the drivers, and refuse what the data cannot show.</summary>
public class GateAndAlignmentSweepTests
{
    /// <summary>The bench's wiring: nanosecond cable delays on every detector input, as `qkd emulate` serves.</summary>
    private static readonly EmulatedTimeTaggerOptions Wiring = EmulatedSetup.TaggerOptionsFor(LinkSettings.Default, long.MaxValue) with
    {
        DetectorDelaysPs = [1_234, 2_345, 3_456, 4_567],
    };

    private static LinkRig Rig(LinkProfile profile, EmulatedLabTruth truth)
    {
        var rig = LinkRig.CreateEmulated(profile, Wiring, 3, truth: truth);
        rig.Connect();
        rig.Configure(profile, LinkSettings.Default, 0);
        return rig;
    }

    [Fact(Timeout = 120_000)]
    public void Gate_sweep_finds_the_optimum_within_one_step()
    {
        var profile = LinkProfile.Default.WithDistance(10);
        const double arrival = 31_700;
        using var rig = Rig(profile, new EmulatedLabTruth(LightArrivalPs: arrival));
        const long step = 250, width = 1_000;
        var result = GateSweep.Run(rig, LinkSettings.Default, 28_000, 35_000, step, width, pulsesPerStep: 2_000_000, seed: 5, TestContext.Current.CancellationToken);
        // The best gate [d, d + w] is centred on the light: d = arrival - w / 2.
        Assert.NotNull(result.OptimumDelayPs);
        Assert.InRange(result.OptimumDelayPs.Value, arrival - width / 2.0 - step, arrival - width / 2.0 + step);
        Assert.True(result.Contrast > 20, $"contrast {result.Contrast}");
        Assert.True(result.Significance.IsSignificant, $"{result.Significance.Sigmas} sigma");
        Assert.Null(result.Problem);
        Assert.Equal(29, result.Steps.Count);
    }

    [Fact(Timeout = 120_000)]
    public void Gate_sweep_away_from_the_light_reports_no_optimum_and_why()
    {
        // The light arrives at 31.7 ns; a sweep over 10..12 ns sees dark counts only: a flat curve.
        var profile = LinkProfile.Default.WithDistance(10) with { DarkCountProbabilityPerPulse = 1e-5 };
        using var rig = Rig(profile, new EmulatedLabTruth(LightArrivalPs: 31_700));
        var result = GateSweep.Run(rig, LinkSettings.Default, 10_000, 12_000, 500, 1_000, pulsesPerStep: 500_000, seed: 5, TestContext.Current.CancellationToken);
        Assert.Null(result.OptimumDelayPs);
        Assert.False(result.Significance.IsSignificant);
        Assert.Contains("no gate delay stands out", result.Problem);
    }

    [Fact(Timeout = 300_000)]
    public void Alignment_sweep_finds_the_phase_that_minimises_the_qber_and_leaves_the_other_basis_alone()
    {
        var profile = LinkProfile.Default.WithDistance(5);
        var settings = LinkSettings.Default;
        using var rig = Rig(profile, new EmulatedLabTruth(OptimalPhaseMilliradians: [600, -200]));
        rig.Detector.SetGated(false);
        var timing = LabReceiverTiming.Measure(rig, profile, settings, LabReceiverTiming.DefaultTimingPulses, 8, TestContext.Current.CancellationToken);
        Assert.Equal(Wiring.DetectorDelaysPs!, timing.Clock.DetectorDelaysPs!, (a, b) => Math.Abs(a - b) <= 10);

        var result = AlignmentSweep.Run(rig, profile, settings, timing, Basis.Z, -0.6, 1.8, 0.2, pulsesPerStep: 2_000_000, seed: 9,
            otherPhaseRadians: -0.2, TestContext.Current.CancellationToken);
        Assert.Null(result.Problem);
        Assert.InRange(result.OptimumPhaseRadians, 0.6 - 0.2, 0.6 + 0.2);
        Assert.Equal(-0.2, result.OtherPhaseRadians);
        // At the optimum only the base misalignment (and dark counts) remain; far off it the QBER is clearly higher.
        Assert.True(result.MinimumQber < profile.MisalignmentError + 0.01, $"minimum QBER {result.MinimumQber}");
        Assert.True(result.Steps[0].QberZ > result.MinimumQber + 0.05, $"QBER at -0.6 rad: {result.Steps[0].QberZ}");
        // X is at its own optimum throughout: sweeping Z does not move it (1 % base misalignment, a little dark count).
        foreach (var step in result.Steps)
            Assert.InRange(step.QberX, 0.0, profile.MisalignmentError + 0.01 + 4 * step.QberXUncertainty);
    }

    [Fact(Timeout = 120_000)]
    public void Alignment_steps_that_sift_too_little_are_refused_with_the_pulses_needed()
    {
        var profile = LinkProfile.Default.WithDistance(5);
        var settings = LinkSettings.Default;
        using var rig = Rig(profile, new EmulatedLabTruth(OptimalPhaseMilliradians: [600, -200]));
        var timing = LabReceiverTiming.Measure(rig, profile, settings, LabReceiverTiming.DefaultTimingPulses, 8, TestContext.Current.CancellationToken);
        // 20,000 pulses sift a few dozen X bits per step: far too few.
        var result = AlignmentSweep.Run(rig, profile, settings, timing, Basis.X, 0, 0.4, 0.2, pulsesPerStep: 20_000, seed: 9, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(double.IsNaN(result.OptimumPhaseRadians));
        Assert.Contains($"fewer than {AlignmentSweep.MinimumSiftedPerStep} bits in the X basis", result.Problem);
        Assert.Contains("pulses per step (--pulses)", result.Problem);
    }

    [Fact]
    public void A_flat_alignment_curve_reports_no_optimum()
    {
        var steps = Enumerable.Range(0, 8).Select(i => new AlignmentSweep.Step(i * 0.1, 0.02 + 0.001 * (i % 2), double.NaN, 10_000, 0)
        {
            ErrorsZ = 200 + 10 * (i % 2),
        }).ToList();
        var result = AlignmentSweep.Conclude(Basis.Z, steps, 1_000_000);
        Assert.True(double.IsNaN(result.OptimumPhaseRadians));
        Assert.Contains("no optimum stands out", result.Problem);
        Assert.Contains("pulses per step", result.Problem);
    }

    [Fact(Timeout = 120_000)]
    public void Receiver_timing_is_refused_when_the_detectors_see_no_light()
    {
        var profile = LinkProfile.Default.WithDistance(10);
        using var rig = Rig(profile, new EmulatedLabTruth(LightArrivalPs: 31_700));
        // Gated 20 ns before the light: dark counts only, no light to place.
        rig.Detector.SetGated(true);
        for (int head = 0; head < rig.Detector.Heads; head++) rig.Detector.SetGateDelayPs(head, 10_000);
        var e = Assert.Throws<InvalidOperationException>(() =>
            LabReceiverTiming.Measure(rig, profile, LinkSettings.Default, 200_000, 8, TestContext.Current.CancellationToken));
        Assert.StartsWith("Receiver timing:", e.Message);
        Assert.Contains("channel 1", e.Message);
        Assert.Contains("no light reaches", e.Message);
    }
}
