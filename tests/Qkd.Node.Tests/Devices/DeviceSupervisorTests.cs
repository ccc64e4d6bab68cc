using Qkd.Hardware.Peripherals;
using Qkd.ClassicalChannel;
using Qkd.Hardware.RandomNumberGenerator;
using Qkd.Lab.Run;
using Qkd.Emulation;
using Qkd.Protocol;
using Qkd.Node.Devices;
using Qkd.Node.Link;
using Qkd.Hardware.Devices;

namespace Qkd.Node.Tests.Devices;

/// <summary>The supervisor against emulated devices: faults it turns into a stop, and closing it while a device hangs.</summary>
public sealed class DeviceSupervisorTests
{
    private static LinkRig Rig()
    {
        var profile = LinkProfile.Default;
        // Short reply timeouts and no retries: a hung device costs a supervision round about half a second.
        var rig = LinkRig.CreateEmulated(profile, EmulatedSetup.TaggerOptionsFor(LinkSettings.Default, long.MaxValue), 1,
            connectionOptions: new DeviceConnectionOptions { ReplyTimeout = TimeSpan.FromMilliseconds(500), Retries = 0 });
        rig.Connect();
        return rig;
    }

    [Fact(Timeout = 60_000)]
    public void Closing_the_supervisor_while_a_round_waits_on_a_hung_device_returns_and_the_round_ends_harmlessly()
    {
        using var rig = Rig();
        var supervisor = new DeviceSupervisor(rig, TimeSpan.FromMilliseconds(20), disposeWait: TimeSpan.FromMilliseconds(50));
        rig.Emulated!.Modulator.StopAnswering();
        // A round is now blocked on the modulator's status request.
        long before = supervisor.Polls;
        SpinWait.SpinUntil(() => supervisor.Polls > before, TimeSpan.FromSeconds(10));

        supervisor.Dispose();

        Assert.Contains(supervisor.Log, line => line.Contains("still running"));
        // The blocked round ends when its request times out and signals the (still live) wait handle. Were the handle
        // disposed, that signal would throw on a thread-pool thread and end this test process.
        Thread.Sleep(1_500);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long polls = supervisor.Polls;
        Thread.Sleep(100);
        Assert.Equal(polls, supervisor.Polls); // no round after Dispose
    }

    [Fact(Timeout = 60_000)]
    public void An_interlock_that_opens_is_a_stop_reason()
    {
        using var rig = Rig();
        using var supervisor = new DeviceSupervisor(rig, TimeSpan.FromMilliseconds(20));

        rig.Emulated!.OpenInterlock();

        Assert.True(SpinWait.SpinUntil(() => supervisor.Fault is not null, TimeSpan.FromSeconds(20)));
        Assert.Contains("interlock", supervisor.Fault);
    }
}
