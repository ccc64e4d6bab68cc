using Qkd.Hardware.Peripherals;
using System.Net;
using System.Device.Gpio;
using Qkd.Node.Devices;
using Qkd.Node.Metrics;
using Qkd.Node.Tests.Support;

namespace Qkd.Node.Tests.Metrics;

/// <summary>The peripherals' readings on the Prometheus endpoint, under the names operators scrape.</summary>
public sealed class PeripheralMetricsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 60_000)]
    public async Task Readings_alarm_interlock_and_gate_are_scraped_with_units_in_their_names()
    {
        string link = $"peripherals-{Guid.NewGuid():N}"; // meters are shared by name across the test process
        var buses = new SimulatedPeripheralBuses();
        buses.Thermometer.TemperatureCelsius = 21.5;
        buses.Thermometer.CompleteConversion();
        buses.Monitor.SetInputVolts(0, 0.9);
        var config = new PeripheralsConfig
        {
            BiasDac = new BiasDacConfig { SpiBus = 0, ChipSelect = 1, Channel = 0, ReferenceVolts = 2.5, BiasVolts = 1.25 },
            TemperatureSensor = new TemperatureSensorConfig(),
            MonitorAdc = new MonitorAdcConfig { AlarmThresholdVolts = 0.5 },
        };
        var gpio = new GpioLinesConfig { Interlock = new InterlockLineConfig { Line = 5, DebounceMs = 0 }, GateEnable = new GateEnableLineConfig { Line = 6 } };
        buses.GpioChip(0).Drive(5, PinValue.Low);

        await using var server = new MetricsServer(new IPEndPoint(IPAddress.Loopback, 0));
        await server.StartAsync(Ct);
        using var peripherals = NodePeripherals.Open(config, gpio, buses, link, "bob", clock: buses.Clock);
        buses.I2c(0x18).Disconnected = true;
        peripherals.Poll(); // the temperature read fails once: counted, and its gauge is withdrawn

        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        var scrape = PrometheusExposition.Parse(await http.GetStringAsync("/metrics", Ct));
        var node = new[] { ("link", link), ("role", "bob") };
        Assert.Equal(1.25, scrape.Value("qkd_modulator_bias_volts", node), 12); // 2048 of 4096 codes
        Assert.Equal(0.9, scrape.Value("qkd_monitor_photodiode_volts", node), 3);
        Assert.Equal(1, scrape.Value("qkd_monitor_photodiode_alarm", node));
        Assert.Equal(1, scrape.Value("qkd_monitor_photodiode_alarms_total", node));
        Assert.Equal(1, scrape.Value("qkd_interlock_closed", node));
        Assert.Equal(0, scrape.Value("qkd_gate_enable_on", node));
        Assert.Equal(0, scrape.Value("qkd_key_generation_allowed", node));
        Assert.Equal(1, scrape.Value("qkd_peripheral_read_errors_total", [.. node, ("device", "temperature_sensor")]));
        Assert.Equal(0, scrape.Value("qkd_peripheral_read_errors_total", [.. node, ("device", "monitor_adc")]));
        Assert.Empty(scrape.Find("qkd_detector_housing_temperature_celsius", node));
        Assert.Equal("gauge", scrape.Types["qkd_monitor_photodiode_volts"]);

        buses.I2c(0x18).Disconnected = false;
        buses.Monitor.SetInputVolts(0, 0.1);
        peripherals.Poll();
        peripherals.SessionStarted();
        var again = PrometheusExposition.Parse(await http.GetStringAsync("/metrics", Ct));
        Assert.Equal(21.5, again.Value("qkd_detector_housing_temperature_celsius", node));
        Assert.Equal(0, again.Value("qkd_monitor_photodiode_alarm", node));
        Assert.Equal(1, again.Value("qkd_key_generation_allowed", node));
        Assert.Equal(1, again.Value("qkd_gate_enable_on", node));
    }
}
