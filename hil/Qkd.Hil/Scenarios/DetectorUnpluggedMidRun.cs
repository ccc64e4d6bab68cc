namespace Qkd.Hil.Scenarios;

/// <summary>
/// The detector's cable is pulled mid-run and plugged back: the supervisor sees the typed disconnect, reconnects the
/// same device (by serial number) with its settings re-applied, and the link finishes with identical keys.
/// </summary>
public sealed class DetectorUnpluggedMidRun : HilScenario
{
    public override string Name => "detector unplugged mid-run and plugged back";

    public override Fault? Needs => Fault.UnplugDetector;

    public override async Task RunAsync(HilRun run, CancellationToken cancellationToken)
    {
        Task? replug = null;
        var (report, rig) = await run.RunLinkAsync(Profile(run.Target), seed: 12, (rig, faults) =>
        {
            faults.UnplugDetector();
            replug = Task.Delay(150, cancellationToken).ContinueWith(_ => faults.ReplugDetector(), cancellationToken);
        }, at: 0.2, cancellationToken);
        using (rig)
        {
            await replug!;
            // The run may end before the next supervision round: the device must come back when asked.
            if (rig.Detector.State != Hardware.Devices.ConnectionState.Connected) rig.Detector.Reconnect();
            Assert.True(rig.Detector.Counters["disconnects"] >= 1);
            Assert.True(rig.Detector.Reconnects >= 1);
            Assert.Equal(Hardware.Devices.ConnectionState.Connected, rig.Detector.State);
            Assert.Contains(report.DeviceLog!, line => line.Contains("detector") && line.Contains("disconnected"));
            Assert.True(rig.Detector.GetEfficiency(0) > 0); // it answers, with the settings re-applied
            LinkChecks.Healthy(report, run.Target, rig, expectedQberZ: 0.02, keyExpected: true);
        }
    }
}
