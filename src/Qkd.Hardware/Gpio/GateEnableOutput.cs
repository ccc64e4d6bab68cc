using System.Device.Gpio;
using Qkd.Protocol;

namespace Qkd.Hardware.Gpio;

/// <summary>
/// The output line that enables the single-photon detectors' gating. Opened disabled (at the inactive level, with no
/// glitch), left disabled on dispose: a crashed host should not leave detectors gated. <see cref="IsEnabled"/> reads
/// the line back rather than trusting the last command, so a line claimed away or a wrong pin shows up.
/// </summary>
public sealed class GateEnableOutput : IDisposable
{
    private readonly GpioController _controller;
    private readonly PinValue _inactiveLevel;
    private bool _disposed;

    public GateEnableOutput(GpioController controller, int pin, PinValue? activeLevel = null, string name = "gate enable")
    {
        ArgumentNullException.ThrowIfNull(controller);
        _controller = controller;
        Pin = pin;
        Name = name;
        ActiveLevel = activeLevel ?? PinValue.High;
        _inactiveLevel = !ActiveLevel;
        GpioLines.OpenOutput(controller, pin, _inactiveLevel, name);
    }

    public string Name { get; }
    public int Pin { get; }
    public PinValue ActiveLevel { get; }

    /// <summary>What the host last asked for.</summary>
    public bool CommandedEnabled { get; private set; }

    /// <summary>The line's level read back now, as enabled/disabled.</summary>
    public bool IsEnabled => Guard("read back the gate-enable line", () => _controller.Read(Pin) == ActiveLevel);

    public void Enable() => Set(true);

    public void Disable() => Set(false);

    public void Set(bool enabled)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Guard(enabled ? "enable gating" : "disable gating", () =>
        {
            _controller.Write(Pin, enabled ? ActiveLevel : _inactiveLevel);
            return true;
        });
        CommandedEnabled = enabled;
    }

    private T Guard<T>(string operation, Func<T> action)
    {
        try
        {
            return action();
        }
        catch (Exception ex) when (ex is not DeviceException and not ObjectDisposedException)
        {
            throw new DeviceException($"{Name} (GPIO {Pin})", operation, ex.Message, ex);
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try
        {
            if (_controller.IsPinOpen(Pin)) _controller.Write(Pin, _inactiveLevel);
        }
        catch (ObjectDisposedException)
        {
        }
        GpioLines.Release(_controller, Pin, null, close: true);
    }
}
