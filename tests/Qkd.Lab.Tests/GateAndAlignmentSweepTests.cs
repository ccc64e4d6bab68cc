using Qkd.Core;
using Qkd.Emulation;
using Qkd.Emulation.Firmware;
using Qkd.Node.Devices;
using Qkd.Lab;
using Qkd.Node.Link;

namespace Qkd.Lab.Tests;

/// <summary>The gate and alignment sweeps find what the emulator hides, through the drivers.</summary>
public class GateAndAlignmentSweepTests
{
    private static LinkRig Rig(LinkProfile profile, EmulatedLabTruth truth)
    {
        var rig = LinkRig.CreateEmulated(profile, EmulatedSetup.TaggerOptionsFor(LinkSettings.Default, long.MaxValue), 3, truth: truth);
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
        Assert.InRange(result.OptimumDelayPs, arrival - width / 2.0 - step, arrival - width / 2.0 + step);
        Assert.True(result.Contrast > 20, $"contrast {result.Contrast}");
        Assert.Equal(29, result.Steps.Count);
    }

    [Fact(Timeout = 120_000)]
    public void Alignment_sweep_finds_the_phase_that_minimises_the_qber()
    {
        var profile = LinkProfile.Default.WithDistance(5);
        using var rig = Rig(profile, new EmulatedLabTruth(OptimalPhaseMilliradians: [600, 0]));
        var result = AlignmentSweep.Run(rig, profile, LinkSettings.Default, Basis.Z, -0.6, 1.8, 0.2, pulsesPerStep: 4_000_000, seed: 9, TestContext.Current.CancellationToken);
        Assert.InRange(result.OptimumPhaseRadians, 0.6 - 0.2, 0.6 + 0.2);
        // At the optimum only the base misalignment (and dark counts) remain; far off it the QBER is clearly higher.
        Assert.True(result.MinimumQber < profile.MisalignmentError + 0.01, $"minimum QBER {result.MinimumQber}");
        Assert.True(result.Steps[0].QberZ > result.MinimumQber + 0.05, $"QBER at -0.6 rad: {result.Steps[0].QberZ}");
    }
}
