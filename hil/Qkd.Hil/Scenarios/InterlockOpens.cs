using Qkd.Protocol;
using Qkd.Protocol.Messages;
using Qkd.Hardware.Devices;

namespace Qkd.Hil.Scenarios;

/// <summary>
/// The safety interlock opens mid-run: emission and detector bias go off, the link stops with that reason (data after
/// the last finished block is discarded), and the detector refuses its bias until the interlock closes.
/// </summary>
public sealed class InterlockOpens : HilScenario
{
    public override string Name => "interlock opens";

    public override Fault? Needs => Fault.Interlock;

    public override async Task RunAsync(HilRun run, CancellationToken cancellationToken)
    {
        IFaultInjector? injector = null;
        var (report, rig) = await run.RunLinkAsync(Profile(run.Target), seed: 14, (_, faults) =>
        {
            injector = faults;
            faults.OpenInterlock();
        }, at: 0.3, cancellationToken);
        using (rig)
        {
            Assert.True(report.Aborted);
            Assert.Contains("interlock", report.Reason);
            Assert.True(report.IdenticalKeys, "blocks finished before the interlock opened must still agree");
            Assert.True((rig.Modulator.GetStatus().Flags & StatusFlags.InterlockOpen) != 0);
            Assert.Equal(0, rig.Detector.GetParameter(ParameterId.DetectorBiasEnabled, 0)); // bias dropped with the interlock
            var refused = Assert.Throws<DeviceNackException>(() => rig.Detector.SetBiasEnabled(0, true));
            Assert.Equal(ErrorCode.InterlockOpen, refused.Code);
            injector!.CloseInterlock();
            Assert.True(SpinWait.SpinUntil(() => (rig.Modulator.GetStatus().Flags & StatusFlags.InterlockOpen) == 0, TimeSpan.FromSeconds(5)));
        }
    }
}
