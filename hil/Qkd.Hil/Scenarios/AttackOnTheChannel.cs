using Qkd.Emulation;
using Qkd.Lab.Drill;

namespace Qkd.Hil.Scenarios;

/// <summary>
/// One attack of the breach drill's catalogue (<see cref="DrillCatalogue"/>), modelled in the emulator's physics, on
/// from the first pulse, through the target's devices and the real acquisition and distillation: what the drill
/// says of it must hold end to end. Emulated targets only (the attacks are physics of the emulated channel).
/// </summary>
/// <remarks>
/// The link is 50 km (where photon-number splitting can block every single photon) with small key blocks, so the
/// target's run completes several blocks. Attacks that threaten secrecy and that the distiller sees (intercept-resend,
/// PNS, blinding on a passive receiver) abort the link with no key; a tap leaves a healthy link with key; blocked
/// light gives no key; a time-shift goes unseen by the distiller (its key is healthy by every check the distiller
/// has, which is exactly why a monitor of detector balance and timing is needed).
/// </remarks>
public sealed class AttackOnTheChannel(DrillAttack attack) : HilScenario
{
    public override string Name => $"attack: {attack.Name}";

    public override LinkProfile Profile(HilTarget target) =>
        target.LinkProfile().WithDistance(50) with { Eavesdropper = attack.Spec };

    public override async Task RunAsync(HilRun run, CancellationToken cancellationToken)
    {
        if (!run.Target.IsEmulated) Assert.Skip($"{attack.Name} is emulated physics; target {run.Target.Name} has real light");
        // Blinding runs through the tagger driver like every attack: blinded detectors give no dark counts, and past the
        // emission's end no pulse can click; the emulated tagger still moves on in time (its syncs end the stream).
        var settings = run.Target.LinkSettings() with { BlockSizeBits = 1 << 18, MinimumFinalBlockBits = 1 << 18 };
        var (report, rig) = await run.RunLinkAsync(Profile(run.Target), seed: 17, cancellationToken: cancellationToken, settings: settings);
        using (rig)
        {
            var result = DrillEvaluation.Evaluate(attack, new DrillObservation(report, 0, settings.PulseRateHz), DrillRunner.DefaultDetectors);
            Assert.Equal(0, result.BlocksBeforeAttack);
            switch (attack.Spec.Kind)
            {
                case EavesdropperKind.DetectorBlinding:
                    // On from the first pulse there is no clean key to compare with: the distiller's bounds leave every
                    // block without key (or abort it), so nothing is made; the drill, with a clean start, sees it raised.
                    Assert.Equal(0, report.SecretBits);
                    Assert.All(report.Blocks, b => Assert.NotEqual("Key", b.Outcome));
                    break;
                case EavesdropperKind.InterceptResend or EavesdropperKind.PhotonNumberSplitting:
                    Assert.Equal(0, report.SecretBits);
                    if (report.Blocks.Count > 0)
                    {
                        Assert.True(result.Detected, $"{attack.Name}: {result.Verdict}");
                        Assert.True(report.Aborted, $"{attack.Name} did not abort the link: {report.Reason}");
                    }
                    break;
                case EavesdropperKind.FibreTap:
                    LinkChecks.Healthy(report, run.Target, rig, expectedQberZ: 0.02, keyExpected: true);
                    break;
                case EavesdropperKind.DenialOfService:
                    Assert.Equal(0, report.SecretBits);
                    Assert.Empty(report.Blocks);
                    break;
                case EavesdropperKind.TimeShift:
                    // Not seen by the distiller: the link looks healthy. What changed is only in the physics' counters.
                    LinkChecks.Healthy(report, run.Target, rig, expectedQberZ: 0.03, keyExpected: true);
                    Assert.False(result.Detected);
                    break;
            }
            Assert.Equal(0, report.Verification.BlocksFailed);
            Assert.True(report.Receiver.EmulatorCounters["eavesdroppedClicks"] > 0 || attack.Spec.Kind == EavesdropperKind.DenialOfService && report.Receiver.EmulatorCounters["clicks"] == 0);
        }
    }
}
