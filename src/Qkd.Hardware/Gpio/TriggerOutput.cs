using System.Device.Gpio;
using Qkd.Protocol;

namespace Qkd.Hardware.Gpio;

/// <summary>
/// An output line that emits single pulses (start a calibration burst, arm a scope, trigger a test laser).
/// <see cref="Pulse"/> drives the active level, waits at least the width on the host monotonic clock, and returns to
/// idle. The width is a lower bound: user-space GPIO cannot promise an upper one (preemption, the kernel's line
/// latency), so anything that needs precise widths belongs in the firmware or a hardware one-shot.
/// </summary>
/// <remarks>
/// Widths up to a couple of milliseconds are busy-waited (sleep granularity is ~1 ms); longer ones sleep first.
/// A caller on simulated time passes its own wait (one that advances the simulated clock by exactly the width), so the
/// driver never needs to know what kind of clock it runs on.
/// </remarks>
public sealed class TriggerOutput : IDisposable
{
    private const long SleepThresholdNs = 2_000_000;
    private readonly GpioController _controller;
    private readonly PinValue _idleLevel;
    private readonly HostMonotonicClock _clock;
    private readonly Action<long>? _waitNs;
    private readonly object _gate = new();
    private long _pulses;
    private bool _disposed;

    /// <param name="waitNs">How to hold the line for a width in nanoseconds; by default a sleep plus busy-wait on
    /// <paramref name="clock"/>. Simulated time passes a wait that advances its clock.</param>
    public TriggerOutput(GpioController controller, int pin, PinValue? activeLevel = null, TimeProvider? clock = null, string name = "trigger",
        Action<long>? waitNs = null)
    {
        ArgumentNullException.ThrowIfNull(controller);
        _controller = controller;
        Pin = pin;
        Name = name;
        ActiveLevel = activeLevel ?? PinValue.High;
        _idleLevel = !ActiveLevel;
        _clock = new HostMonotonicClock(clock ?? TimeProvider.System);
        _waitNs = waitNs;
        GpioLines.OpenOutput(controller, pin, _idleLevel, name);
    }

    public string Name { get; }
    public int Pin { get; }
    public PinValue ActiveLevel { get; }

    /// <summary>Pulses emitted so far.</summary>
    public long PulseCount => Interlocked.Read(ref _pulses);

    /// <summary>Emits one pulse at least <paramref name="widthNs"/> long (1 ns .. 1 s). Pulses from several threads do not overlap.</summary>
    public void Pulse(long widthNs)
    {
        if (widthNs is <= 0 or > GpioLinesOptions.MaxDurationNs)
            throw new ArgumentOutOfRangeException(nameof(widthNs), widthNs, $"{Name} (GPIO {Pin}): pulse width must be within 1..{GpioLinesOptions.MaxDurationNs} ns.");
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            try
            {
                _controller.Write(Pin, ActiveLevel);
                try
                {
                    Wait(widthNs);
                }
                finally
                {
                    _controller.Write(Pin, _idleLevel); // never leave the line active, even if the wait was interrupted
                }
            }
            catch (Exception ex) when (ex is not DeviceException and not ObjectDisposedException)
            {
                throw new DeviceException($"{Name} (GPIO {Pin})", $"emit a {widthNs} ns pulse", ex.Message, ex);
            }
            Interlocked.Increment(ref _pulses);
        }
    }

    private void Wait(long widthNs)
    {
        if (_waitNs is not null)
        {
            _waitNs(widthNs);
            return;
        }
        long start = _clock.Provider.GetTimestamp();
        long end = start + _clock.TicksFromNs(widthNs);
        if (widthNs > SleepThresholdNs)
            Thread.Sleep(TimeSpan.FromTicks((widthNs - SleepThresholdNs) / 100));
        var spinner = new SpinWait();
        while (_clock.Provider.GetTimestamp() < end)
            spinner.SpinOnce(sleep1Threshold: -1); // never Sleep(1): that would stretch a microsecond pulse to a millisecond
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
        }
        try
        {
            if (_controller.IsPinOpen(Pin)) _controller.Write(Pin, _idleLevel);
        }
        catch (ObjectDisposedException)
        {
        }
        GpioLines.Release(_controller, Pin, null, close: true);
    }
}
