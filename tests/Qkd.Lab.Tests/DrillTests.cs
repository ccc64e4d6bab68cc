using Qkd.Emulation;
using Qkd.Lab.Drill;

namespace Qkd.Lab.Tests;

/// <summary>
/// The breach drill on a short seeded link: every attack that threatens secrecy is detected by the distiller and no
/// key comes from attacked blocks; blocked light is noticed by the key flow; a tap and a time-shift are honestly
/// reported as not detected by the distiller (a monitor must catch them); the report matches its schema.
/// </summary>
public sealed class DrillTests
{
    // 50 km: PNS can block every single photon there; blocks of 2^18 bits (the smallest that reliably make key there) keep
    // each run to about 1.5 million clicks.
    private static DrillOptions Short(params DrillAttack[] attacks) => new()
    {
        DistanceKm = 50,
        Seed = 5,
        BlockSizeBits = 1 << 18,
        CleanBlocks = 1.3,
        AttackedBlocks = 2.2,
        Attacks = attacks,
    };

    [Fact]
    public async Task Every_attack_that_threatens_secrecy_is_caught_with_no_key_from_attacked_blocks()
    {
        // Detector blinding is left out until its run ends through the tagger driver (known defect, issue 15 note).
        var drill = new DrillRunner(Short(DrillCatalogue.InterceptResend(1), DrillCatalogue.PhotonNumberSplitting));
        DrillReport report = await drill.RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(2, report.Attacks.Count);
        foreach (DrillAttackResult result in report.Attacks)
        {
            Assert.True(result.BlocksBeforeAttack >= 1, $"{result.Attack}: no clean block before the attack");
            Assert.True(result.Detected, $"{result.Attack}: {result.Verdict}");
            Assert.Equal("distiller", result.DetectedBy);
            Assert.Equal(0, result.SecretBitsFromAttackedBlocks);
            Assert.True(result.Caught, result.Verdict);
            Assert.NotNull(result.AfterBlocks);
            Assert.InRange(result.AfterSeconds!.Value, 0, result.LinkSeconds - result.OnsetSeconds);
            Assert.Empty(result.FalseAlarms);
        }
        Assert.True(report.AllCaught);
        Assert.Equal("QBER threshold", report.Attacks[0].Check);
        LabTestFiles.AssertConforms(report.ToJson(), "drill");
    }

    [Fact]
    public async Task Blocked_light_is_noticed_by_the_key_flow_and_a_tap_and_a_time_shift_are_reported_as_unseen_by_the_distiller()
    {
        var drill = new DrillRunner(Short(DrillCatalogue.DenialOfService, DrillCatalogue.FibreTap, DrillCatalogue.TimeShift));
        DrillReport report = await drill.RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        DrillAttackResult dos = report.Attacks[0];
        Assert.True(dos.Caught, dos.Verdict);
        Assert.Equal("key flow", dos.DetectedBy);
        Assert.Equal(0, dos.SecretBitsFromAttackedBlocks);

        // A 0.3 dB tap costs key but no QBER: the distiller keeps making (shorter, still secret) key and raises nothing.
        DrillAttackResult tap = report.Attacks[1];
        Assert.False(tap.Detected, tap.Verdict);
        Assert.False(tap.Caught);
        Assert.Contains("loss monitor", tap.Verdict);
        Assert.True(tap.SecretBitsWhileAttacked > 0, tap.SecretBitsBound);
        Assert.Contains("covered by the proof", tap.SecretBitsBound);

        // The time-shift leaves the error rate alone: the distiller cannot see it, and says so.
        DrillAttackResult shift = report.Attacks[2];
        Assert.False(shift.Detected, shift.Verdict);
        Assert.False(shift.Caught);
        Assert.Contains("NOT", shift.SecretBitsBound);

        Assert.False(report.AllCaught);
        Assert.Equal(["fibre tap", "time-shift"], report.NotCaught);
        string json = report.ToJson();
        Assert.DoesNotContain("NaN", json);
        LabTestFiles.AssertConforms(json, "drill");
    }

    [Fact]
    public void The_verdict_names_the_distillers_check_from_its_abort_reason()
    {
        Assert.Equal("QBER threshold", DistillerVerdictDetector.Check("QBER 27.1% in X is above the 11% threshold", aborted: true));
        Assert.Equal("decoy-state bound", DistillerVerdictDetector.Check("decoy-state analysis certifies no secure single-photon events: x", aborted: true));
        Assert.Equal("key length 0", DistillerVerdictDetector.Check("finite-key length is zero: y", aborted: false));
        Assert.Equal(EavesdropperKind.FibreTap, DrillCatalogue.FibreTap.Spec.Kind);
        Assert.Equal("tap:0.3dB@1.5s", DrillCatalogue.FibreTap.StartingAt(1.5).ToString());
    }
}
