using Qkd.Emulation;
using Qkd.Emulation.Firmware;
using Qkd.Node.Devices;
using Qkd.Node.Link;

namespace Qkd.Node.Tests.Devices;

/// <summary>The knobs the lab calibrations turn change the emulated physics the way the hidden truth says.</summary>
public class LabTruthTests
{
    private static LinkRig Rig(EmulatedLabTruth truth)
    {
        var profile = LinkProfile.Default;
        var rig = LinkRig.CreateEmulated(profile, EmulatedSetup.TaggerOptionsFor(LinkSettings.Default, long.MaxValue), 1, truth: truth);
        rig.Connect();
        rig.Configure(profile, LinkSettings.Default, 0);
        return rig;
    }

    [Fact]
    public void Detection_efficiency_follows_the_gate_overlap_with_the_light()
    {
        using var rig = Rig(new EmulatedLabTruth(LightArrivalPs: 30_000));
        double full = LinkProfile.Default.DetectorEfficiency;
        for (int h = 0; h < 4; h++)
        {
            rig.Detector.SetGateWidthPs(h, 1_000);
            rig.Detector.SetGateDelayPs(h, 29_500); // centred on the light
        }
        Assert.Equal(full, rig.Emulated!.ImpliedProfile().DetectorEfficiency, 3);
        for (int h = 0; h < 4; h++) rig.Detector.SetGateDelayPs(h, 30_000); // half the light before the gate opens
        Assert.Equal(full / 2, rig.Emulated.ImpliedProfile().DetectorEfficiency, 3);
        for (int h = 0; h < 4; h++) rig.Detector.SetGateDelayPs(h, 10_000); // gate long before the light
        Assert.True(rig.Emulated.ImpliedProfile().DetectorEfficiency < 1e-6);
        rig.Detector.SetGated(false); // free-running: no gate
        Assert.Equal(full, rig.Emulated.ImpliedProfile().DetectorEfficiency, 6);
    }

    [Fact]
    public void Misalignment_grows_as_sin_squared_of_the_phase_error()
    {
        using var rig = Rig(new EmulatedLabTruth(OptimalPhaseMilliradians: [400, -300]));
        double baseError = LinkProfile.Default.MisalignmentError;
        rig.Modulator.SetBasisPhaseRadians(Core.Basis.Z, 0.4);
        rig.Modulator.SetBasisPhaseRadians(Core.Basis.X, -0.3);
        Assert.Equal(baseError, rig.Emulated!.ImpliedProfile().Misalignment(Core.Basis.Z), 9);
        Assert.Equal(baseError, rig.Emulated.ImpliedProfile().Misalignment(Core.Basis.X), 9);
        rig.Modulator.SetBasisPhaseRadians(Core.Basis.Z, 0.4 + 0.2);
        // Each basis has its own optics: a phase error of 0.2 rad in Z flips Z alone with probability sin^2(0.2 / 2),
        // independently of the base misalignment (the outcome flips when exactly one of them does).
        double flip = Math.Pow(Math.Sin(0.1), 2);
        Assert.Equal(baseError * (1 - flip) + flip * (1 - baseError), rig.Emulated.ImpliedProfile().Misalignment(Core.Basis.Z), 9);
        Assert.Equal(baseError, rig.Emulated.ImpliedProfile().Misalignment(Core.Basis.X), 9);
    }

    [Fact]
    public void Without_truth_the_knobs_change_nothing()
    {
        using var rig = Rig(new EmulatedLabTruth());
        var before = rig.Emulated!.ImpliedProfile();
        rig.Detector.SetGateDelayPs(0, 900_000);
        rig.Modulator.SetBasisPhaseRadians(Core.Basis.X, 2.0);
        Assert.Equal(before, rig.Emulated.ImpliedProfile());
    }
}
