using Qkd.Emulation;
using Qkd.Lab.Drill;

namespace Qkd.Lab.Tests;

/// <summary>
/// The breach drill on a short seeded link: every attack that threatens secrecy is detected and no key comes from
/// attacked blocks (blinding included: its run through the tagger driver ends); blocked light is noticed; the link
/// monitor, after the drill's clean baseline run, catches a 0.3 dB tap (loss) and a time-shift (arrival times) that the
/// distiller cannot see, and without it they are honestly reported as unseen; the report matches its schema.
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

    [Fact(Timeout = 600_000)]
    public async Task Every_attack_that_threatens_secrecy_is_caught_with_no_key_from_attacked_blocks()
    {
        // Detector blinding runs through the tagger driver like the others: its run ends (it used not to, issue 15).
        var drill = new DrillRunner(Short(DrillCatalogue.InterceptResend(1), DrillCatalogue.PhotonNumberSplitting, DrillCatalogue.DetectorBlinding));
        DrillReport report = await drill.RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(3, report.Attacks.Count);
        foreach (DrillAttackResult result in report.Attacks)
        {
            TestContext.Current.TestOutputHelper?.WriteLine($"{result.Attack}: {result.Verdict}; alarms: {string.Join(" | ", result.Alarms)}; false: {string.Join(" | ", result.FalseAlarms)}");
            Assert.True(result.BlocksBeforeAttack >= 1, $"{result.Attack}: no clean block before the attack");
            Assert.True(result.Detected, $"{result.Attack}: {result.Verdict}");
            Assert.Equal(0, result.SecretBitsFromAttackedBlocks);
            Assert.True(result.Caught, result.Verdict);
            Assert.NotNull(result.AfterBlocks);
            Assert.InRange(result.AfterSeconds!.Value, 0, result.LinkSeconds - result.OnsetSeconds);
            Assert.Empty(result.FalseAlarms);
        }
        Assert.True(report.AllCaught);
        Assert.Equal("QBER threshold", report.Attacks[0].Check);
        // Blinding: the blinded detectors see no dark counts, so clicks on vacuum pulses vanish (the monitor's blinding
        // signature), and the distiller sees the errors the passive receiver's squashing makes of Eve's bright triggers.
        DrillAttackResult blinding = report.Attacks[2];
        Assert.Contains(blinding.Alarms, a => a.StartsWith("link monitor: Blinding", StringComparison.Ordinal));
        Assert.Contains(blinding.Alarms, a => a.StartsWith("distiller:", StringComparison.Ordinal));
        Assert.Contains("link monitor", report.Detectors);
        LabTestFiles.AssertConforms(report.ToJson(), "drill");
    }

    [Fact(Timeout = 600_000)]
    public async Task Blocked_light_is_noticed_by_the_key_flow_and_the_link_monitor_catches_a_tap_and_a_time_shift_the_distiller_cannot_see()
    {
        var drill = new DrillRunner(Short(DrillCatalogue.DenialOfService, DrillCatalogue.FibreTap, DrillCatalogue.TimeShift));
        DrillReport report = await drill.RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        foreach (DrillAttackResult result in report.Attacks)
            TestContext.Current.TestOutputHelper?.WriteLine($"{result.Attack}: {result.Verdict}; alarms: {string.Join(" | ", result.Alarms)}; false: {string.Join(" | ", result.FalseAlarms)}");

        DrillAttackResult dos = report.Attacks[0];
        Assert.True(dos.Caught, dos.Verdict);
        Assert.Equal(0, dos.SecretBitsFromAttackedBlocks);

        // A 0.3 dB tap costs key but no QBER: the distiller keeps making (shorter, still secret) key and raises nothing;
        // the monitor sees the transmittance fall.
        DrillAttackResult tap = report.Attacks[1];
        Assert.True(tap.Caught, tap.Verdict);
        Assert.Equal("link monitor", tap.DetectedBy);
        Assert.Equal("LossStep on loss", tap.Check);
        Assert.DoesNotContain(tap.Alarms, a => a.StartsWith("distiller:", StringComparison.Ordinal));
        Assert.True(tap.SecretBitsWhileAttacked > 0, tap.SecretBitsBound);
        Assert.Contains("covered by the proof", tap.SecretBitsBound);
        Assert.Empty(tap.FalseAlarms);

        // The time-shift leaves the error rate alone: the distiller cannot see it, the arrival times show it; a node's
        // key hold withholds the key from the raising block on, so no key of a wholly attacked block is released.
        DrillAttackResult shift = report.Attacks[2];
        Assert.True(shift.Detected, shift.Verdict);
        Assert.Equal("link monitor", shift.DetectedBy);
        Assert.Contains(shift.Alarms, a => a.StartsWith("link monitor: TimingAnomaly", StringComparison.Ordinal));
        Assert.DoesNotContain(shift.Alarms, a => a.StartsWith("distiller:", StringComparison.Ordinal));
        Assert.True(shift.Caught, shift.Verdict);
        Assert.Equal(0, shift.SecretBitsReleasedFromAttackedBlocks);
        Assert.Empty(shift.FalseAlarms);

        Assert.True(report.AllCaught);
        string json = report.ToJson();
        Assert.DoesNotContain("NaN", json);
        LabTestFiles.AssertConforms(json, "drill");
    }

    [Fact(Timeout = 600_000)]
    public async Task Without_the_link_monitor_a_tap_and_a_time_shift_are_reported_as_unseen_by_the_distiller()
    {
        var drill = new DrillRunner(Short(DrillCatalogue.FibreTap, DrillCatalogue.TimeShift) with { LinkMonitor = false });
        DrillReport report = await drill.RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.DoesNotContain("link monitor", report.Detectors);
        DrillAttackResult tap = report.Attacks[0];
        Assert.False(tap.Detected, tap.Verdict);
        Assert.False(tap.Caught);
        Assert.Contains("loss monitor", tap.Verdict);
        DrillAttackResult shift = report.Attacks[1];
        Assert.False(shift.Detected, shift.Verdict);
        Assert.False(shift.Caught);
        Assert.Contains("NOT", shift.SecretBitsBound);
        Assert.Equal(["fibre tap", "time-shift"], report.NotCaught);
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
