using System.Device.Gpio;
using Qkd.Hardware.Gpio;
using Qkd.Emulation.Buses;
using Qkd.Protocol;

namespace Qkd.Hardware.Tests.Gpio;

public sealed class GateAndTriggerOutputTests
{
    [Fact]
    public void Gate_enable_opens_disabled_follows_commands_reads_back_and_disables_on_dispose()
    {
        using var rig = new GpioTestRig();
        var gate = new GateEnableOutput(rig.Controller, 12);
        Assert.False(gate.IsEnabled);
        gate.Enable();
        Assert.True(gate.IsEnabled);
        Assert.True(gate.CommandedEnabled);
        gate.Disable();
        Assert.False(gate.IsEnabled);
        gate.Enable();
        gate.Dispose();

        Assert.Equal([PinValue.Low, PinValue.High, PinValue.Low, PinValue.High, PinValue.Low], rig.Driver.WritesTo(12).Select(w => w.Value));
        Assert.False(rig.Controller.IsPinOpen(12));
    }

    [Fact]
    public void Active_low_gate_enable_inverts_the_line()
    {
        using var rig = new GpioTestRig();
        using var gate = new GateEnableOutput(rig.Controller, 13, activeLevel: PinValue.Low);
        Assert.Equal(PinValue.High, rig.Driver.PeekLevel(13));
        gate.Enable();
        Assert.Equal(PinValue.Low, rig.Driver.PeekLevel(13));
        Assert.True(gate.IsEnabled);
    }

    [Fact]
    public void A_line_already_open_is_not_taken_over_by_an_output_role()
    {
        using var rig = new GpioTestRig();
        rig.Controller.OpenPin(14, PinMode.Input);
        var ex = Assert.Throws<DeviceException>(() => new GateEnableOutput(rig.Controller, 14));
        Assert.Contains("GPIO 14", ex.Device);
    }

    [Fact]
    public void Trigger_pulse_under_the_simulated_clock_is_exactly_its_width()
    {
        using var rig = new GpioTestRig();
        using var trigger = new TriggerOutput(rig.Controller, 20, clock: rig.Clock, waitNs: rig.Clock.Advance);
        rig.Driver.ClearWrites();
        long t0 = rig.Clock.NowNs;
        trigger.Pulse(1_500);
        Assert.Equal([new GpioWriteRecord(20, PinValue.High, t0), new GpioWriteRecord(20, PinValue.Low, t0 + 1_500)], rig.Driver.Writes);
        Assert.Equal(1, trigger.PulseCount);
    }

    [Fact]
    public void Trigger_pulse_on_the_host_clock_is_never_shorter_than_asked()
    {
        var driver = new SimulatedGpioDriver(32); // timestamps on TimeProvider.System, like a real run
        using var controller = new GpioController(driver);
        using var trigger = new TriggerOutput(controller, 21);
        driver.ClearWrites();
        trigger.Pulse(20_000);
        var writes = driver.Writes;
        Assert.Equal([PinValue.High, PinValue.Low], writes.Select(w => w.Value));
        long widthNs = (long)((writes[1].Timestamp - writes[0].Timestamp) * (1e9 / TimeProvider.System.TimestampFrequency));
        Assert.True(widthNs >= 20_000, $"pulse was {widthNs} ns");
    }

    [Fact]
    public void Trigger_width_out_of_range_names_the_value()
    {
        using var rig = new GpioTestRig();
        using var trigger = new TriggerOutput(rig.Controller, 22, clock: rig.Clock, waitNs: rig.Clock.Advance);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => trigger.Pulse(0));
        Assert.Equal(0L, ex.ActualValue);
        Assert.Contains("GPIO 22", ex.Message);
    }
}
