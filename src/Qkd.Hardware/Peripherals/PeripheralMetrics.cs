using System.Diagnostics.Metrics;
using Qkd.Hardware.Gpio;

namespace Qkd.Hardware.Peripherals;

/// <summary>
/// The peripherals' instruments (meter "Qkd.Node.Peripherals"), read from <see cref="NodePeripherals"/> when a listener
/// collects, tagged with the link and role like the node's own NodeMetrics. On the Prometheus endpoint:
/// qkd_detector_housing_temperature_celsius, qkd_monitor_photodiode_volts, qkd_modulator_bias_volts,
/// qkd_monitor_photodiode_alarm (1 while tripped), qkd_monitor_photodiode_alarms_total, qkd_interlock_closed,
/// qkd_gate_enable_on, qkd_key_generation_allowed and qkd_peripheral_read_errors_total{device=...}. A part that is
/// not configured, or has no good reading yet, exports nothing (no made-up zero).
/// </summary>
public sealed class PeripheralMetrics : IDisposable
{
    public const string MeterName = "Qkd.Node.Peripherals";

    private readonly Meter _meter = new(MeterName);
    private readonly NodePeripherals _peripherals;
    private readonly KeyValuePair<string, object?>[] _tags;
    private readonly KeyValuePair<string, object?>[] _temperatureTags, _monitorTags;

    public PeripheralMetrics(NodePeripherals peripherals, string linkId, string role)
    {
        _peripherals = peripherals;
        _tags = [new("link", linkId), new("role", role)];
        _temperatureTags = [.. _tags, new("device", "temperature_sensor")];
        _monitorTags = [.. _tags, new("device", "monitor_adc")];

        _meter.CreateObservableGauge("qkd.detector.housing.temperature", () => Value(peripherals.HousingTemperatureCelsius), "Cel",
            "Detector housing temperature (MCP9808), last reading");
        _meter.CreateObservableGauge("qkd.monitor.photodiode", () => Value(peripherals.MonitorPhotodiodeVolts), "V",
            "Monitor photodiode voltage (ADS1115), last reading; above the alarm threshold key generation stops");
        _meter.CreateObservableGauge("qkd.modulator.bias", () => Value(peripherals.ModulatorBiasVolts), "V",
            "Modulator bias output of the DAC (AD5328) as set");
        _meter.CreateObservableGauge("qkd.monitor.photodiode.alarm", () => peripherals.HasMonitor ? Flag(peripherals.MonitorAlarmTripped) : [], null,
            "1 while the monitor photodiode alarm (bright light: blinding or Trojan-horse probe) is tripped");
        _meter.CreateObservableCounter("qkd.monitor.photodiode.alarms", ObserveAlarmTrips,
            "{alarm}", "Times the monitor photodiode alarm tripped");
        _meter.CreateObservableGauge("qkd.interlock.closed", () => peripherals.Interlock is { } state ? Flag(state == InterlockState.Closed) : [], null,
            "1 while the safety interlock is closed (key generation needs it closed)");
        _meter.CreateObservableGauge("qkd.gate_enable.on", () => peripherals.GateEnabled is { } on ? Flag(on) : [], null,
            "1 while the detector gate-enable line is active (read back)");
        _meter.CreateObservableGauge("qkd.key_generation.allowed", () => Flag(peripherals.MayGenerate(out _)), null,
            "1 while the interlock and the monitor photodiode allow key generation");
        _meter.CreateObservableCounter("qkd.peripheral.read_errors", ObserveReadErrors, "{error}",
            "Failed readings of the peripherals, by device");
    }

    private IEnumerable<Measurement<double>> Value(double? value) => value is double v ? [new Measurement<double>(v, _tags)] : [];

    private IEnumerable<Measurement<int>> Flag(bool on) => [new Measurement<int>(on ? 1 : 0, _tags)];

    private IEnumerable<Measurement<long>> ObserveAlarmTrips() =>
        _peripherals.HasMonitor ? [new Measurement<long>(_peripherals.MonitorAlarmTrips, _tags)] : [];

    private IEnumerable<Measurement<long>> ObserveReadErrors()
    {
        if (_peripherals.HasTemperatureSensor) yield return new Measurement<long>(_peripherals.TemperatureReadErrors, _temperatureTags);
        if (_peripherals.HasMonitor) yield return new Measurement<long>(_peripherals.MonitorReadErrors, _monitorTags);
    }

    public void Dispose() => _meter.Dispose();
}
