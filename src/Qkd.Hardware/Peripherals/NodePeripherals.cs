using System.Device.Gpio;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Qkd.Hardware.Bindings.Ad5328;
using Qkd.Hardware.Bindings.Ads1115;
using Qkd.Hardware.Bindings.Mcp9808;
using Qkd.Hardware.Gpio;
using Qkd.Protocol;

namespace Qkd.Hardware.Peripherals;

/// <summary>
/// The node's peripherals and GPIO lines, opened from its config (<see cref="PeripheralsConfig"/>,
/// <see cref="GpioLinesConfig"/>), and the key-generation gate they drive:
/// <list type="bullet">
/// <item>the modulator bias DAC (AD5328) is set from the config at start;</item>
/// <item>the housing temperature (MCP9808) and the monitor photodiode (ADS1115) are read by <see cref="Poll"/> (or
/// <see cref="RunAsync"/> every poll interval) and exported as metrics (<see cref="PeripheralMetrics"/>);</item>
/// <item>key generation is blocked while the interlock is open, while the monitor photodiode reads above its alarm
/// threshold (bright light: blinding or a Trojan-horse probe), and while the monitor cannot be read (fail safe);</item>
/// <item>gate-enable is on while a session runs and key generation is allowed, off otherwise.</item>
/// </list>
/// Every part is optional; with none configured the gate always allows. Thread-safe: interlock edges arrive on the GPIO
/// driver's thread, polls on the poller's, session calls on the service's.
/// </summary>
public sealed class NodePeripherals : IKeyGenerationGate, IDisposable
{
    private readonly object _gate = new();
    private readonly ILogger _logger;
    private readonly TimeProvider _clock;
    private readonly List<IDisposable> _owned = [];
    private readonly MonitorPhotodiodeAlarm? _alarm;
    private InterlockInput? _interlock;
    private GateEnableOutput? _gateEnable;
    private Ad5328Dac? _biasDac;
    private Mcp9808Thermometer? _thermometer;
    private Ads1115Adc? _monitor;
    private bool _sessionActive;
    private bool _allowed = true;
    private string _reason = "";
    private bool _monitorFaulty, _thermometerFaulty;
    private double? _temperatureCelsius, _monitorVolts;
    private long _temperatureReadErrors, _monitorReadErrors, _gateWriteErrors;
    private TaskCompletionSource _allowedSignal = CompletedSignal();
    private bool _disposed;

    private NodePeripherals(PeripheralsConfig? peripherals, GpioLinesConfig? gpio, ILogger logger, TimeProvider clock)
    {
        Peripherals = peripherals;
        Gpio = gpio;
        _logger = logger;
        _clock = clock;
        if (peripherals?.MonitorAdc is { } monitor) _alarm = new MonitorPhotodiodeAlarm(monitor.AlarmThresholdVolts, monitor.EffectiveClearVolts);
    }

    /// <summary>
    /// Opens every configured part (GPIO lines first, gate-enable off), sets the bias, takes a first reading and evaluates
    /// the gate. On any failure what was opened is closed again and a <see cref="DeviceException"/> names the config
    /// field, the device and the cause. With <paramref name="linkId"/> the readings are exported as metrics.
    /// </summary>
    /// <exception cref="InvalidDataException">A config value is out of range (named).</exception>
    /// <exception cref="DeviceException">A part could not be opened or set up.</exception>
    public static NodePeripherals Open(PeripheralsConfig? peripherals, GpioLinesConfig? gpio, IPeripheralBusFactory buses,
        string? linkId = null, string role = "", ILogger? logger = null, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(buses);
        string? problem = peripherals?.Problem("devices.peripherals") ?? gpio?.Problem("devices.gpio");
        if (problem is not null) throw new InvalidDataException(problem);
        var node = new NodePeripherals(peripherals, gpio, logger ?? NullLogger.Instance, clock ?? TimeProvider.System);
        try
        {
            node.OpenGpio(buses);
            node.OpenChips(buses);
            if (linkId is not null) node._owned.Insert(0, new PeripheralMetrics(node, linkId, role)); // stops observing before the parts close
            node.Poll();
            return node;
        }
        catch
        {
            node.Dispose();
            throw;
        }
    }

    public PeripheralsConfig? Peripherals { get; }
    public GpioLinesConfig? Gpio { get; }

    /// <summary>The last housing temperature read, °C (null: no sensor, or no good reading yet).</summary>
    public double? HousingTemperatureCelsius
    {
        get { lock (_gate) return _temperatureCelsius; }
    }

    /// <summary>The last monitor photodiode reading, volts (null: no monitor, or no good reading yet).</summary>
    public double? MonitorPhotodiodeVolts
    {
        get { lock (_gate) return _monitorVolts; }
    }

    /// <summary>The modulator bias the DAC outputs (set point rounded to the DAC's code), volts; null without a bias DAC.</summary>
    public double? ModulatorBiasVolts => _biasDac?.OutputVolts(Peripherals!.BiasDac!.Channel);

    public bool MonitorAlarmTripped
    {
        get { lock (_gate) return _alarm?.IsTripped ?? false; }
    }

    /// <summary>Times the monitor photodiode alarm tripped.</summary>
    public long MonitorAlarmTrips
    {
        get { lock (_gate) return _alarm?.Trips ?? 0; }
    }

    /// <summary>Interlock state; null without an interlock line.</summary>
    public InterlockState? Interlock => _interlock?.State;

    /// <summary>Gate-enable as read back from its line; null without one.</summary>
    public bool? GateEnabled => _gateEnable?.IsEnabled;

    public bool HasTemperatureSensor => _thermometer is not null;
    public bool HasMonitor => _monitor is not null;
    public bool HasBiasDac => _biasDac is not null;

    public long TemperatureReadErrors => Interlocked.Read(ref _temperatureReadErrors);
    public long MonitorReadErrors => Interlocked.Read(ref _monitorReadErrors);
    public long GateWriteErrors => Interlocked.Read(ref _gateWriteErrors);

    public bool SessionActive
    {
        get { lock (_gate) return _sessionActive; }
    }

    public event EventHandler<KeyGenerationGateEventArgs>? Changed;

    /// <summary>Raised after each <see cref="Poll"/> (on the polling thread), for tests and supervisors that follow the readings.</summary>
    public event EventHandler? Polled;

    public bool MayGenerate(out string reason)
    {
        lock (_gate)
        {
            reason = _reason;
            return _allowed;
        }
    }

    public void SessionStarted()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _sessionActive = true;
        }
        Reevaluate();
    }

    public void SessionEnded()
    {
        lock (_gate) _sessionActive = false;
        Reevaluate();
    }

    public Task WaitUntilAllowedAsync(CancellationToken cancellationToken)
    {
        Task signal;
        lock (_gate) signal = _allowedSignal.Task;
        return signal.WaitAsync(cancellationToken);
    }

    /// <summary>Sets the modulator bias, volts; returns the output the DAC's nearest code gives.</summary>
    /// <exception cref="InvalidOperationException">No bias DAC is configured.</exception>
    public double SetModulatorBias(double volts)
    {
        var dac = _biasDac ?? throw new InvalidOperationException("No devices.peripherals.biasDac is configured.");
        double output = dac.SetVoltage(Peripherals!.BiasDac!.Channel, volts);
        _logger.LogInformation("Modulator bias set to {BiasVolts:0.######} V ({Dac} channel {Channel})", output, dac.Description, Peripherals.BiasDac.Channel);
        return output;
    }

    /// <summary>
    /// Reads the temperature sensor and the monitor photodiode once, updates the alarm and the gate. Never throws for a
    /// failed reading: it is counted, logged when the part turns faulty or healthy again, and a monitor that cannot be
    /// read blocks key generation.
    /// </summary>
    public void Poll()
    {
        if (_thermometer is { } thermometer) PollTemperature(thermometer);
        if (_monitor is { } monitor) PollMonitor(monitor);
        Reevaluate();
        Polled?.Invoke(this, EventArgs.Empty);
    }

    /// <summary>Polls every <see cref="PeripheralsConfig.PollIntervalMs"/> until cancelled (on the clock given to <see cref="Open"/>).</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var interval = TimeSpan.FromMilliseconds(Peripherals?.PollIntervalMs ?? 100);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, _clock, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            Poll();
        }
    }

    private void PollTemperature(Mcp9808Thermometer thermometer)
    {
        try
        {
            double celsius = thermometer.ReadCelsius();
            bool recovered;
            lock (_gate)
            {
                _temperatureCelsius = celsius;
                recovered = _thermometerFaulty;
                _thermometerFaulty = false;
            }
            if (recovered) _logger.LogInformation("{Sensor} reads again: {Celsius:0.###} °C", thermometer.Description, celsius);
        }
        catch (DeviceException e)
        {
            Interlocked.Increment(ref _temperatureReadErrors);
            bool first;
            lock (_gate)
            {
                first = !_thermometerFaulty;
                _thermometerFaulty = true;
                _temperatureCelsius = null;
            }
            if (first) _logger.LogWarning(e, "Detector housing temperature unreadable: {Cause}", e.Message);
        }
    }

    private void PollMonitor(Ads1115Adc monitor)
    {
        try
        {
            double volts = monitor.ReadVolts();
            int change;
            bool recovered;
            lock (_gate)
            {
                _monitorVolts = volts;
                recovered = _monitorFaulty;
                _monitorFaulty = false;
                change = _alarm!.Observe(volts);
            }
            if (recovered) _logger.LogInformation("{Monitor} reads again: {Volts:0.#####} V", monitor.Description, volts);
            if (change > 0)
                _logger.LogError("Bright light at the monitor photodiode: {Volts:0.#####} V above the alarm threshold {Threshold} V ({Monitor}); possible detector blinding or Trojan-horse probe, key generation stopped",
                    volts, _alarm!.ThresholdVolts, monitor.Description);
            else if (change < 0)
                _logger.LogWarning("Monitor photodiode back to {Volts:0.#####} V (clears at {Clear} V): alarm cleared", volts, _alarm!.ClearVolts);
        }
        catch (DeviceException e)
        {
            Interlocked.Increment(ref _monitorReadErrors);
            bool first;
            lock (_gate)
            {
                first = !_monitorFaulty;
                _monitorFaulty = true;
                _monitorVolts = null;
            }
            if (first) _logger.LogError(e, "Monitor photodiode unreadable, key generation stopped until it reads again: {Cause}", e.Message);
        }
    }

    /// <summary>Recomputes the gate from the monitors and drives gate-enable; raises <see cref="Changed"/> outside the lock.</summary>
    private void Reevaluate()
    {
        KeyGenerationGateEventArgs? change = null;
        bool enableGate;
        lock (_gate)
        {
            if (_disposed) return;
            string? reason = BlockingReason();
            bool allowed = reason is null;
            if (allowed != _allowed || (reason ?? "") != _reason)
            {
                bool flipped = allowed != _allowed;
                _allowed = allowed;
                _reason = reason ?? "";
                if (flipped)
                {
                    change = new KeyGenerationGateEventArgs(allowed, _reason);
                    if (allowed) _allowedSignal.TrySetResult();
                    else _allowedSignal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
            }
            enableGate = _sessionActive && _allowed;
            // Under the lock, so two threads cannot leave the line at a stale level.
            if (_gateEnable is { } gate && gate.CommandedEnabled != enableGate)
            {
                try
                {
                    gate.Set(enableGate);
                }
                catch (DeviceException e)
                {
                    Interlocked.Increment(ref _gateWriteErrors);
                    _logger.LogError(e, "Could not {Action} the detector gates: {Cause}", enableGate ? "enable" : "disable", e.Message);
                }
            }
        }
        if (change is not null)
        {
            if (change.Allowed) _logger.LogInformation("Key generation allowed again");
            else _logger.LogWarning("Key generation stopped: {Reason}", change.Reason);
            Changed?.Invoke(this, change);
        }
    }

    /// <summary>Under the lock: why key generation must not run now, or null.</summary>
    private string? BlockingReason()
    {
        if (_interlock is { } interlock && interlock.State != InterlockState.Closed)
            return $"interlock open ({Gpio!.Interlock})";
        if (_alarm is { IsTripped: true } alarm)
            return $"monitor photodiode alarm: {_monitorVolts?.ToString("0.#####") ?? "?"} V above {alarm.ThresholdVolts} V (bright light at the input: blinding or Trojan-horse probe)";
        if (_monitorFaulty)
            return $"monitor photodiode unreadable ({Peripherals!.MonitorAdc})";
        return null;
    }

    private void OpenGpio(IPeripheralBusFactory buses)
    {
        if (Gpio is null) return;
        var controllers = new Dictionary<int, GpioController>();
        GpioController Controller(int chip, string path)
        {
            if (controllers.TryGetValue(chip, out var controller)) return controller;
            controller = Opening(path, $"GPIO chip {chip}", "open the GPIO chip", () => buses.OpenGpioChip(chip));
            controllers[chip] = controller;
            _owned.Add(controller);
            return controller;
        }

        if (Gpio.GateEnable is { } gate)
        {
            var controller = Controller(gate.Chip, "devices.gpio.gateEnable");
            _gateEnable = Opening("devices.gpio.gateEnable", gate.ToString(), "open the gate-enable output",
                () => new GateEnableOutput(controller, gate.Line, Level(gate.ActiveLevel), $"gate enable (GPIO chip {gate.Chip})"));
            _owned.Insert(0, _gateEnable); // disposed before its controller
        }
        if (Gpio.Interlock is { } interlock)
        {
            var controller = Controller(interlock.Chip, "devices.gpio.interlock");
            var mode = interlock.Bias switch
            {
                GpioLineBias.PullUp => PinMode.InputPullUp,
                GpioLineBias.PullDown => PinMode.InputPullDown,
                _ => PinMode.Input,
            };
            _interlock = Opening("devices.gpio.interlock", interlock.ToString(), "open the interlock input",
                () => new InterlockInput(controller, interlock.Line, interlock.DebounceNs, Level(interlock.ClosedLevel), mode, _clock,
                    $"interlock (GPIO chip {interlock.Chip})"));
            _owned.Insert(0, _interlock);
            _interlock.Opened += OnInterlockChanged;
            _interlock.Closed += OnInterlockChanged;
        }
    }

    private void OnInterlockChanged(object? sender, InterlockEventArgs e)
    {
        if (e.State == InterlockState.Open) _logger.LogWarning("Interlock opened ({Line})", Gpio!.Interlock);
        else _logger.LogInformation("Interlock closed ({Line})", Gpio!.Interlock);
        Reevaluate();
    }

    private void OpenChips(IPeripheralBusFactory buses)
    {
        if (Peripherals is null) return;
        if (Peripherals.BiasDac is { } dac)
        {
            const string path = "devices.peripherals.biasDac";
            _biasDac = Opening(path, dac.ToString(), "open the SPI device",
                () => new Ad5328Dac(buses.OpenSpi(Ad5328Dac.ConnectionSettings(dac.SpiBus, dac.ChipSelect, dac.ClockHz)), dac.ReferenceVolts, dac.ReferenceVolts));
            _owned.Add(_biasDac);
            Opening(path, dac.ToString(), $"set the modulator bias to {dac.BiasVolts} V", () => SetModulatorBias(dac.BiasVolts));
        }
        if (Peripherals.TemperatureSensor is { } sensor)
        {
            _thermometer = Opening("devices.peripherals.temperatureSensor", sensor.ToString(), "open the sensor",
                () => new Mcp9808Thermometer(buses.OpenI2c(sensor.I2cBus, sensor.Address)));
            _owned.Add(_thermometer);
        }
        if (Peripherals.MonitorAdc is { } adc)
        {
            _monitor = Opening("devices.peripherals.monitorAdc", adc.ToString(), "open the ADC",
                () => new Ads1115Adc(buses.OpenI2c(adc.I2cBus, adc.Address), adc.Channel, adc.FullScaleVolts, adc.DataRateSps));
            _owned.Add(_monitor);
        }
    }

    /// <summary>Runs one opening step; any failure becomes a <see cref="DeviceException"/> naming the config field and the device.</summary>
    private static T Opening<T>(string path, string device, string operation, Func<T> open)
    {
        try
        {
            return open();
        }
        catch (Exception e) when (e is DeviceException or IOException or UnauthorizedAccessException or InvalidOperationException
                                      or PlatformNotSupportedException or ArgumentException or DllNotFoundException)
        {
            throw new DeviceException($"{path} ({device})", operation, e.Message, e);
        }
    }

    private static PinValue Level(GpioLineLevel level) => level == GpioLineLevel.High ? PinValue.High : PinValue.Low;

    private static TaskCompletionSource CompletedSignal()
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        signal.SetResult();
        return signal;
    }

    /// <summary>Turns the gates off and closes every part (the bias DAC keeps its output: the part has no off state worth forcing).</summary>
    public void Dispose()
    {
        TaskCompletionSource? waiting;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            waiting = _allowedSignal;
        }
        if (_interlock is { } interlock)
        {
            interlock.Opened -= OnInterlockChanged;
            interlock.Closed -= OnInterlockChanged;
        }
        foreach (var part in _owned)
        {
            try
            {
                part.Dispose();
            }
            catch (Exception e) when (e is DeviceException or IOException or InvalidOperationException)
            {
                _logger.LogWarning(e, "Closing a peripheral failed: {Cause}", e.Message);
            }
        }
        waiting.TrySetCanceled();
    }
}
