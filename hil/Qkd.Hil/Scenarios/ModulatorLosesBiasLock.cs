namespace Qkd.Hil.Scenarios;

/// <summary>
/// The modulator's bias lock is lost mid-run: its intensities are no longer what the decoy analysis assumes, so the
/// link stops with that reason instead of distilling key from untrustworthy data.
/// </summary>
public sealed class ModulatorLosesBiasLock : HilScenario
{
    public override string Name => "modulator loses bias lock";

    public override Fault? Needs => Fault.BiasLockLoss;

    public override async Task RunAsync(HilRun run, CancellationToken cancellationToken)
    {
        var (report, rig) = await run.RunLinkAsync(Profile(run.Target), seed: 16, (_, faults) => faults.BreakModulatorBiasLock(), at: 0.3, cancellationToken);
        using (rig)
        {
            Assert.True(report.Aborted);
            Assert.Contains("bias lock", report.Reason);
            Assert.False(rig.Modulator.BiasLocked);
            Assert.True(report.IdenticalKeys);
            Assert.Contains(report.DeviceLog!, line => line.Contains("bias lock"));
        }
    }
}
