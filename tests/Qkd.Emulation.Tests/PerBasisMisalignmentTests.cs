using Qkd.Core;
using Qkd.Emulation.Firmware;
using Qkd.Emulation.TimeTagging;
using Qkd.Protocol;
using Qkd.Protocol.Messages;

namespace Qkd.Emulation.Tests;

/// <summary>
/// Each basis has its own misalignment (its own phase or polarisation reference): the profile's single
/// <c>misalignmentError</c> still sets both, <c>misalignmentErrorZ</c>/<c>misalignmentErrorX</c> override one, and the
/// emulated modulator's phase in one basis moves only that basis's error rate.
/// </summary>
public sealed class PerBasisMisalignmentTests
{
    [Fact]
    public void The_single_misalignment_of_older_profiles_applies_to_both_bases()
    {
        var profile = LinkProfile.Parse("""{ "misalignmentError": 0.03 }""");
        Assert.Equal(0.03, profile.Misalignment(Basis.Z));
        Assert.Equal(0.03, profile.Misalignment(Basis.X));
        // Unchanged files: a profile without per-basis values writes none.
        Assert.DoesNotContain("misalignmentErrorZ", LinkProfile.Default.ToJson());
        Assert.DoesNotContain("misalignmentErrorX", LinkProfile.Default.ToJson());
    }

    [Fact]
    public void A_per_basis_misalignment_overrides_the_shared_one_and_round_trips()
    {
        var profile = LinkProfile.Parse("""{ "misalignmentError": 0.03, "misalignmentErrorX": 0.2 }""");
        Assert.Equal(0.03, profile.Misalignment(Basis.Z));
        Assert.Equal(0.2, profile.Misalignment(Basis.X));
        Assert.Equal(profile, LinkProfile.Parse(profile.ToJson()));
    }

    [Theory]
    [InlineData("""{ "misalignmentErrorZ": 0.7 }""", "misalignmentErrorZ must lie in [0, 0.5], got 0.7")]
    [InlineData("""{ "misalignmentErrorX": -0.1 }""", "misalignmentErrorX must lie in [0, 0.5], got -0.1")]
    public void A_per_basis_misalignment_out_of_range_is_refused_naming_the_field(string json, string message)
    {
        var e = Assert.Throws<LinkProfileException>(() => LinkProfile.Parse(json));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void The_emulated_link_gives_each_basis_its_own_error_rate()
    {
        // No dark counts, dead time or afterpulses: the sifted error rate of a basis is its misalignment, plus the few
        // squashed multi-clicks (two photons on both detectors of a basis: a random bit).
        var profile = HonestChannelStatisticsTests.WithoutDetectorMemory(LinkProfile.Default.WithDistance(10)) with
        {
            DarkCountProbabilityPerPulse = 0,
            MisalignmentErrorZ = 0.10,
            MisalignmentErrorX = 0.02,
        };
        var run = new LinkRun(profile, pulses: 6_000_000, seed: 11, countPulses: false);

        long siftedZ = 0, errorsZ = 0, siftedX = 0, errorsX = 0;
        foreach (Intensity k in Intensities.All)
        {
            siftedZ += run.Sifted[(int)k, (int)Basis.Z];
            errorsZ += run.Errors[(int)k, (int)Basis.Z];
            siftedX += run.Sifted[(int)k, (int)Basis.X];
            errorsX += run.Errors[(int)k, (int)Basis.X];
        }
        Assert.True(siftedX > 5_000, $"{siftedX} sifted X bits");
        double qberZ = (double)errorsZ / siftedZ, qberX = (double)errorsX / siftedX;
        // 4 binomial standard deviations plus the multi-click share (below 0.5 %) on the high side.
        Assert.InRange(qberZ, 0.10 - 4 * Math.Sqrt(0.1 * 0.9 / siftedZ), 0.105 + 4 * Math.Sqrt(0.1 * 0.9 / siftedZ));
        Assert.InRange(qberX, 0.02 - 4 * Math.Sqrt(0.02 * 0.98 / siftedX), 0.025 + 4 * Math.Sqrt(0.02 * 0.98 / siftedX));
    }

    [Fact]
    public void The_modulator_phase_of_one_basis_moves_only_that_basis_misalignment()
    {
        var truth = new EmulatedLabTruth(OptimalPhaseMilliradians: [600, -200]);
        using var devices = new EmulatedLinkDevices(LinkProfile.Default, new EmulatedTimeTaggerOptions(), 3, new ManualDeviceClock()) { Truth = truth };
        (Firmware.FirmwareTestHost modulator, var transport) = Firmware.FirmwareTestHost.Connect("modulator");
        using var _ = modulator;
        devices.Modulator.Plug(transport);

        SetPhase(modulator, 0, 600);
        SetPhase(modulator, 1, -200);
        Assert.Equal(0.01, devices.ImpliedProfile().Misalignment(Basis.Z), 12);
        Assert.Equal(0.01, devices.ImpliedProfile().Misalignment(Basis.X), 12);

        // Z a quarter turn off its optimum: sin^2(pi/4) = 1/2 of its photons flip, on top of the base 1 %: 50 %.
        SetPhase(modulator, 0, 600 + (long)Math.Round(Math.PI / 2 * 1000));
        Assert.Equal(0.5, devices.ImpliedProfile().Misalignment(Basis.Z), 3);
        Assert.Equal(0.01, devices.ImpliedProfile().Misalignment(Basis.X), 12);

        // 0.4 rad off in X alone: 1 % composed with sin^2(0.2) (3.95 %).
        SetPhase(modulator, 0, 600);
        SetPhase(modulator, 1, 200);
        double flip = Math.Pow(Math.Sin(0.2), 2);
        Assert.Equal(0.01, devices.ImpliedProfile().Misalignment(Basis.Z), 12);
        Assert.Equal(0.01 * (1 - flip) + flip * 0.99, devices.ImpliedProfile().Misalignment(Basis.X), 12);
    }

    private static void SetPhase(Firmware.FirmwareTestHost modulator, byte basis, long milliradians) =>
        modulator.Set(DeviceClass.LaserModulator, ParameterId.ModulatorPhaseMilliradians, basis, milliradians);
}
