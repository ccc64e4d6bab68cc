using System.Device.Gpio;
using Qkd.Emulation.Buses;

namespace Qkd.Hardware.Tests.Gpio;

public sealed class SimulatedGpioDriverTests
{
    [Fact]
    public void Pull_resistors_and_external_drive_decide_what_an_input_reads()
    {
        var driver = new SimulatedGpioDriver(8);
        using var controller = new GpioController(driver);
        controller.OpenPin(1, PinMode.InputPullUp);
        controller.OpenPin(2, PinMode.InputPullDown);
        Assert.Equal(PinValue.High, controller.Read(1));
        Assert.Equal(PinValue.Low, controller.Read(2));
        driver.Drive(1, PinValue.Low);
        driver.Drive(2, PinValue.High);
        Assert.Equal(PinValue.Low, controller.Read(1));
        Assert.Equal(PinValue.High, controller.Read(2));
        driver.Release(1);
        Assert.Equal(PinValue.High, controller.Read(1));
    }

    [Fact]
    public void Callbacks_see_each_edge_of_the_registered_kind_once_and_in_order()
    {
        var driver = new SimulatedGpioDriver(8);
        using var controller = new GpioController(driver);
        controller.OpenPin(3, PinMode.Input);
        var seen = new List<(int Pin, PinEventTypes Type)>();
        var risingOnly = new List<PinEventTypes>();
        controller.RegisterCallbackForPinValueChangedEvent(3, PinEventTypes.Rising | PinEventTypes.Falling, (_, e) => seen.Add((e.PinNumber, e.ChangeType)));
        controller.RegisterCallbackForPinValueChangedEvent(3, PinEventTypes.Rising, (_, e) => risingOnly.Add(e.ChangeType));

        driver.DriveSequence(3, [PinValue.High, PinValue.High, PinValue.Low, PinValue.High]);

        Assert.Equal([(3, PinEventTypes.Rising), (3, PinEventTypes.Falling), (3, PinEventTypes.Rising)], seen);
        Assert.Equal([PinEventTypes.Rising, PinEventTypes.Rising], risingOnly);
    }

    [Fact]
    public void Unregistered_callbacks_stop_and_closing_a_pin_drops_its_callbacks()
    {
        var driver = new SimulatedGpioDriver(8);
        using var controller = new GpioController(driver);
        controller.OpenPin(4, PinMode.Input);
        int calls = 0;
        PinChangeEventHandler handler = (_, _) => calls++;
        controller.RegisterCallbackForPinValueChangedEvent(4, PinEventTypes.Rising, handler);
        driver.Drive(4, PinValue.High);
        controller.UnregisterCallbackForPinValueChangedEvent(4, handler);
        driver.Drive(4, PinValue.Low);
        driver.Drive(4, PinValue.High);
        Assert.Equal(1, calls);
        controller.RegisterCallbackForPinValueChangedEvent(4, PinEventTypes.Falling, handler);
        controller.ClosePin(4);
        Assert.Equal(0, driver.CallbackCount(4));
    }

    [Fact]
    public void Output_writes_are_recorded_with_the_clock_time()
    {
        var clock = new SimulatedClock(startNs: 1_000);
        var driver = new SimulatedGpioDriver(8, clock);
        using var controller = new GpioController(driver);
        controller.OpenPin(5, PinMode.Output, PinValue.Low);
        clock.Advance(250);
        controller.Write(5, PinValue.High);
        clock.Advance(750);
        controller.Write(5, PinValue.Low);

        Assert.Equal(
            [new GpioWriteRecord(5, PinValue.Low, 1_000), new GpioWriteRecord(5, PinValue.High, 1_250), new GpioWriteRecord(5, PinValue.Low, 2_000)],
            driver.WritesTo(5));
        Assert.Equal(PinValue.Low, controller.Read(5));
    }

    [Fact]
    public void Driving_an_output_externally_is_refused()
    {
        var driver = new SimulatedGpioDriver(8);
        using var controller = new GpioController(driver);
        controller.OpenPin(6, PinMode.Output);
        var ex = Assert.Throws<InvalidOperationException>(() => driver.Drive(6, PinValue.High));
        Assert.Contains("pin 6", ex.Message);
    }

    [Fact]
    public async Task WaitForEvent_returns_the_edge_that_happens_while_waiting_and_times_out_without_one()
    {
        var driver = new SimulatedGpioDriver(8);
        using var controller = new GpioController(driver);
        controller.OpenPin(7, PinMode.InputPullDown);

        var waiter = Task.Run(() => controller.WaitForEvent(7, PinEventTypes.Falling, TimeSpan.FromSeconds(30)));
        // Only edges after the wait began count; keep toggling until the waiter has seen a falling edge.
        while (!waiter.IsCompleted)
        {
            driver.Drive(7, PinValue.High);
            driver.Drive(7, PinValue.Low);
            Thread.Sleep(1);
        }
        var result = await waiter;
        Assert.False(result.TimedOut);
        Assert.Equal(PinEventTypes.Falling, result.EventTypes);

        var quiet = controller.WaitForEvent(7, PinEventTypes.Rising, TimeSpan.FromMilliseconds(20));
        Assert.True(quiet.TimedOut);
    }

    [Fact]
    public void Pins_outside_the_chip_are_rejected_with_the_pin_number()
    {
        var driver = new SimulatedGpioDriver(4);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => driver.Drive(9, PinValue.High));
        Assert.Equal(9, ex.ActualValue);
        Assert.Equal(4, new GpioController(driver).PinCount);
    }
}
