using Qkd.Hardware.Peripherals;
using System.Device.Gpio;
using Qkd.Hardware.Gpio;
using Qkd.Node.Devices;
using Qkd.Node.Tests.Support;
using Qkd.Protocol;

namespace Qkd.Node.Tests.Devices;

/// <summary>
/// <see cref="NodePeripherals"/> against the simulated buses: the package bindings talk to register-level chips, the
/// GPIO roles to a simulated chip on simulated time. Polls are called directly, so nothing waits on a timer.
/// </summary>
public sealed class NodePeripheralsTests
{
    private const int InterlockLine = 5, GateLine = 12;
    private const long DebounceNs = 5_000_000;

    private static readonly PeripheralsConfig AllPeripherals = new()
    {
        BiasDac = new BiasDacConfig { SpiBus = 0, ChipSelect = 1, Channel = 3, ReferenceVolts = 2.5, BiasVolts = 1.2 },
        TemperatureSensor = new TemperatureSensorConfig { I2cBus = 1, Address = 0x18 },
        MonitorAdc = new MonitorAdcConfig { I2cBus = 1, Address = 0x48, Channel = 1, AlarmThresholdVolts = 0.5, AlarmClearVolts = 0.3 },
    };

    private static readonly GpioLinesConfig BothLines = new()
    {
        Interlock = new InterlockLineConfig { Chip = 0, Line = InterlockLine, DebounceMs = DebounceNs / 1e6 },
        GateEnable = new GateEnableLineConfig { Chip = 0, Line = GateLine },
    };

    private static NodePeripherals Open(SimulatedPeripheralBuses buses, PeripheralsConfig? peripherals = null, GpioLinesConfig? gpio = null) =>
        NodePeripherals.Open(peripherals, gpio, buses, clock: buses.Clock);

    private static void CloseInterlock(SimulatedPeripheralBuses buses)
    {
        buses.GpioChip(0).Drive(InterlockLine, PinValue.Low); // normally-closed switch to ground
        buses.Clock.Advance(DebounceNs);
    }

    [Fact]
    public void Opening_sets_the_bias_and_takes_the_first_readings()
    {
        var buses = new SimulatedPeripheralBuses();
        buses.Thermometer.TemperatureCelsius = 23.4;
        buses.Thermometer.CompleteConversion();
        buses.Monitor.SetInputVolts(1, 0.1);
        using var peripherals = Open(buses, AllPeripherals);

        Assert.Equal(1966, buses.Dac.OutputCode(3)); // 1.2 V / (2.5 V / 4096) = 1966.08
        Assert.Equal(2.5 * 1966 / 4096, buses.Dac.OutputVolts(3), 12);
        Assert.Equal(buses.Dac.OutputVolts(3), peripherals.ModulatorBiasVolts!.Value, 12);
        Assert.Equal(System.Device.Spi.SpiMode.Mode2, Assert.Single(buses.SpiDevices).ConnectionSettings.Mode);
        Assert.Equal(23.375, peripherals.HousingTemperatureCelsius);
        Assert.Equal(0.1, peripherals.MonitorPhotodiodeVolts!.Value, 3);
        Assert.True(peripherals.MayGenerate(out string reason));
        Assert.Equal("", reason);

        buses.Thermometer.TemperatureCelsius = -5.1;
        buses.Thermometer.CompleteConversion();
        peripherals.Poll();
        Assert.Equal(-5.125, peripherals.HousingTemperatureCelsius);

        Assert.Equal(0.5, peripherals.SetModulatorBias(0.5), 3);
        Assert.Equal(819, buses.Dac.OutputCode(3));
    }

    [Fact]
    public async Task Bright_light_at_the_monitor_trips_the_alarm_stops_key_generation_and_clears_below_the_clear_level()
    {
        var buses = new SimulatedPeripheralBuses();
        using var peripherals = Open(buses, AllPeripherals);
        var changes = new List<KeyGenerationGateEventArgs>();
        peripherals.Changed += (_, e) => changes.Add(e);
        Assert.True(peripherals.MayGenerate(out _));

        buses.Monitor.SetInputVolts(1, 0.8); // a blinding laser
        peripherals.Poll();
        Assert.False(peripherals.MayGenerate(out string reason));
        Assert.Contains("monitor photodiode alarm", reason);
        Assert.Contains("above 0.5 V", reason);
        Assert.True(peripherals.MonitorAlarmTripped);
        Assert.Equal(1, peripherals.MonitorAlarmTrips);
        var waiting = peripherals.WaitUntilAllowedAsync(TestContext.Current.CancellationToken);
        Assert.False(waiting.IsCompleted);

        buses.Monitor.SetInputVolts(1, 0.4); // below the threshold, above the clear level: still tripped
        peripherals.Poll();
        Assert.False(peripherals.MayGenerate(out _));
        Assert.False(waiting.IsCompleted);

        buses.Monitor.SetInputVolts(1, 0.25);
        peripherals.Poll();
        Assert.True(peripherals.MayGenerate(out _));
        await waiting.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal([false, true], changes.Select(c => c.Allowed));

        buses.Monitor.SetInputVolts(1, 3.0); // again: counted again
        peripherals.Poll();
        Assert.Equal(2, peripherals.MonitorAlarmTrips);
    }

    [Fact]
    public void A_monitor_that_cannot_be_read_stops_key_generation_until_it_reads_again()
    {
        var buses = new SimulatedPeripheralBuses();
        using var peripherals = Open(buses, AllPeripherals);
        buses.I2c(0x48).Disconnected = true;
        peripherals.Poll();
        Assert.False(peripherals.MayGenerate(out string reason));
        Assert.Equal("monitor photodiode unreadable (ADS1115 on I2C bus 1 address 0x48, AIN1)", reason);
        Assert.Null(peripherals.MonitorPhotodiodeVolts);
        Assert.Equal(1, peripherals.MonitorReadErrors);

        buses.I2c(0x48).Disconnected = false;
        peripherals.Poll();
        Assert.True(peripherals.MayGenerate(out _));
    }

    [Fact]
    public void A_temperature_sensor_that_cannot_be_read_is_counted_but_does_not_stop_key_generation()
    {
        var buses = new SimulatedPeripheralBuses();
        using var peripherals = Open(buses, AllPeripherals);
        buses.I2c(0x18).Disconnected = true;
        peripherals.Poll();
        peripherals.Poll();
        Assert.Equal(2, peripherals.TemperatureReadErrors);
        Assert.Null(peripherals.HousingTemperatureCelsius);
        Assert.True(peripherals.MayGenerate(out _));
    }

    [Fact]
    public void An_open_interlock_stops_key_generation_and_closing_it_resumes_after_the_debounce()
    {
        var buses = new SimulatedPeripheralBuses();
        using var peripherals = Open(buses, gpio: BothLines);
        // The pulled-up line reads open until the switch closes.
        Assert.False(peripherals.MayGenerate(out string reason));
        Assert.Equal("interlock open (GPIO chip 0 line 5)", reason);

        buses.GpioChip(0).Drive(InterlockLine, PinValue.Low);
        buses.Clock.Advance(DebounceNs - 1);
        Assert.False(peripherals.MayGenerate(out _)); // not closed long enough yet
        buses.Clock.Advance(1);
        Assert.True(peripherals.MayGenerate(out _));
        Assert.Equal(InterlockState.Closed, peripherals.Interlock);

        buses.GpioChip(0).Drive(InterlockLine, PinValue.High); // lid opened: at once
        Assert.False(peripherals.MayGenerate(out _));
        CloseInterlock(buses);
        Assert.True(peripherals.MayGenerate(out _));
    }

    [Fact]
    public void Gate_enable_follows_the_session_and_drops_while_key_generation_is_blocked()
    {
        var buses = new SimulatedPeripheralBuses();
        var chip = buses.GpioChip(0);
        using (var peripherals = Open(buses, AllPeripherals, BothLines))
        {
            CloseInterlock(buses);
            Assert.Equal(PinValue.Low, chip.PeekLevel(GateLine)); // no session yet
            Assert.False(peripherals.GateEnabled);

            peripherals.SessionStarted();
            Assert.Equal(PinValue.High, chip.PeekLevel(GateLine));
            Assert.True(peripherals.GateEnabled);

            chip.Drive(InterlockLine, PinValue.High); // interlock opens mid-session
            Assert.Equal(PinValue.Low, chip.PeekLevel(GateLine));
            CloseInterlock(buses);
            Assert.Equal(PinValue.High, chip.PeekLevel(GateLine));

            buses.Monitor.SetInputVolts(1, 1.0); // bright light mid-session
            peripherals.Poll();
            Assert.Equal(PinValue.Low, chip.PeekLevel(GateLine));
            buses.Monitor.SetInputVolts(1, 0.0);
            peripherals.Poll();
            Assert.Equal(PinValue.High, chip.PeekLevel(GateLine));

            peripherals.SessionEnded();
            Assert.Equal(PinValue.Low, chip.PeekLevel(GateLine));
            peripherals.SessionStarted();
            Assert.Equal(PinValue.High, chip.PeekLevel(GateLine));
        }
        // Disposed mid-session: the gates are left disabled and the lines released.
        Assert.Equal(PinValue.Low, chip.PeekLevel(GateLine));
        Assert.False(chip.IsOpen(GateLine));
        Assert.Equal(0, chip.CallbackCount(InterlockLine));
        var gateWrites = chip.WritesTo(GateLine).Select(w => w.Value).ToArray();
        Assert.Equal(PinValue.Low, gateWrites[0]); // opened disabled, never glitched high
    }

    [Fact]
    public async Task The_poller_reads_on_the_configured_interval_of_its_clock()
    {
        var buses = new SimulatedPeripheralBuses();
        using var peripherals = Open(buses, AllPeripherals with { PollIntervalMs = 250 });
        var polled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        peripherals.Polled += (_, _) => polled.TrySetResult();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var run = peripherals.RunAsync(stop.Token);

        buses.Monitor.SetInputVolts(1, 2.0);
        buses.Clock.Advance(249_000_000);
        Assert.False(polled.Task.IsCompleted);
        buses.Clock.Advance(1_000_000);
        await polled.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.True(peripherals.MonitorAlarmTripped);

        stop.Cancel();
        await run.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
    }

    [Fact]
    public void Nothing_configured_always_allows()
    {
        using var peripherals = Open(new SimulatedPeripheralBuses());
        Assert.True(peripherals.MayGenerate(out _));
        peripherals.SessionStarted();
        peripherals.Poll();
        Assert.True(peripherals.MayGenerate(out _));
        Assert.Null(peripherals.GateEnabled);
        Assert.Null(peripherals.ModulatorBiasVolts);
    }

    [Fact]
    public void A_missing_chip_fails_at_open_naming_the_config_field_and_the_device_and_releases_what_was_opened()
    {
        var buses = new SimulatedPeripheralBuses();
        var config = AllPeripherals with { TemperatureSensor = new TemperatureSensorConfig { I2cBus = 1, Address = 0x19 } };
        var ex = Assert.Throws<DeviceException>(() => Open(buses, config, BothLines));
        Assert.StartsWith("devices.peripherals.temperatureSensor (MCP9808 on I2C bus 1 address 0x19): open the sensor failed:", ex.Message);
        Assert.Contains("no acknowledge", ex.Message);
        Assert.False(buses.GpioChip(0).IsOpen(GateLine));
        Assert.False(buses.GpioChip(0).IsOpen(InterlockLine));
    }

    [Fact]
    public void A_bad_config_value_is_refused_before_anything_opens()
    {
        var buses = new SimulatedPeripheralBuses();
        var config = AllPeripherals with { MonitorAdc = AllPeripherals.MonitorAdc! with { Channel = 4 } };
        var ex = Assert.Throws<InvalidDataException>(() => Open(buses, config));
        Assert.Equal("devices.peripherals.monitorAdc.channel 4 is outside 0..3 (AIN0..AIN3)", ex.Message);
        Assert.Empty(buses.SpiDevices);
    }
}
