using System.Device.Gpio;

namespace Qkd.Emulation.Buses;

/// <summary>
/// A <see cref="GpioDriver"/> whose pins live in memory, for tests and for the emulator (System.Device.Gpio ships no
/// simulated driver). The program under test sees an ordinary driver behind a <see cref="GpioController"/>; the test
/// plays the outside world: <see cref="Drive"/> forces an input line as an external signal would, <see cref="Release"/>
/// lets it float back to its pull resistor, and <see cref="Writes"/> lists every output write with its timestamp.
/// </summary>
/// <remarks>
/// Electrical model: an output pin reads back its latch; an input pin reads the external drive if there is one, else
/// its pull (pull-up High, pull-down Low, plain input <see cref="FloatingLevel"/>). Every change of an input pin's level
/// is an edge: callbacks registered for that edge type run synchronously on the thread that caused it (the test
/// thread), outside the driver's lock, so a callback may read pins or even drive others; <see cref="WaitForEvent"/>
/// waiters wake. Synchronous delivery keeps tests deterministic: when <see cref="Drive"/> returns, every consumer has
/// seen the edge. Real drivers (libgpiod) deliver on their own thread; consumers must cope with both.
/// Timestamps come from the <see cref="TimeProvider"/> given at construction (<see cref="SimulatedClock"/> in tests).
/// </remarks>
public sealed class SimulatedGpioDriver : GpioDriver
{
    private readonly object _gate = new();
    private readonly Pin[] _pins;
    private readonly List<GpioWriteRecord> _writes = [];
    private readonly TimeProvider _clock;
    private bool _disposed;

    public SimulatedGpioDriver(int pinCount = 64, TimeProvider? clock = null, PinValue? floatingLevel = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pinCount);
        _pins = new Pin[pinCount];
        for (int i = 0; i < pinCount; i++) _pins[i] = new Pin();
        _clock = clock ?? TimeProvider.System;
        FloatingLevel = floatingLevel ?? PinValue.Low;
    }

    /// <summary>What an undriven plain <see cref="PinMode.Input"/> pin reads (real floating inputs are undefined).</summary>
    public PinValue FloatingLevel { get; }

    /// <summary>The clock that timestamps <see cref="Writes"/>.</summary>
    public TimeProvider Clock => _clock;

    protected override int PinCount => _pins.Length;

    // ------------------------------------------------------------------ the outside world (test side)

    /// <summary>An external signal forces <paramref name="pinNumber"/> to <paramref name="value"/>; fires edge callbacks if the level changes.</summary>
    public void Drive(int pinNumber, PinValue value)
    {
        var pin = PinAt(pinNumber);
        Change(pinNumber, () =>
        {
            if (pin.Mode == PinMode.Output && pin.IsOpen)
                throw new InvalidOperationException($"Simulated GPIO pin {pinNumber} is an output: driving it externally would short two drivers.");
            pin.ExternalDrive = value;
        });
    }

    /// <summary>The external signal lets go of <paramref name="pinNumber"/>: it reads its pull resistor (or <see cref="FloatingLevel"/>) again.</summary>
    public void Release(int pinNumber)
    {
        var pin = PinAt(pinNumber);
        Change(pinNumber, () => pin.ExternalDrive = null);
    }

    /// <summary>Drives a pin through several levels in a row (a bouncing contact, a pulse train).</summary>
    public void DriveSequence(int pinNumber, ReadOnlySpan<PinValue> values)
    {
        foreach (var value in values) Drive(pinNumber, value);
    }

    /// <summary>The level the pin presents right now (output latch, external drive or pull), whether or not it is open.</summary>
    public PinValue PeekLevel(int pinNumber)
    {
        lock (_gate) return Level(PinAt(pinNumber));
    }

    public bool IsOpen(int pinNumber)
    {
        lock (_gate) return PinAt(pinNumber).IsOpen;
    }

    /// <summary>Every output write so far, in order, with driver-clock timestamps (a snapshot).</summary>
    public IReadOnlyList<GpioWriteRecord> Writes
    {
        get { lock (_gate) return _writes.ToArray(); }
    }

    /// <summary>Output writes to one pin (a snapshot).</summary>
    public IReadOnlyList<GpioWriteRecord> WritesTo(int pinNumber)
    {
        lock (_gate) return _writes.Where(w => w.Pin == pinNumber).ToArray();
    }

    public void ClearWrites()
    {
        lock (_gate) _writes.Clear();
    }

    /// <summary>Callbacks currently registered on a pin; lets tests check that roles unregister on dispose.</summary>
    public int CallbackCount(int pinNumber)
    {
        lock (_gate) return PinAt(pinNumber).Callbacks.Count;
    }

    // ------------------------------------------------------------------ GpioDriver

    protected override void OpenPin(int pinNumber)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            PinAt(pinNumber).IsOpen = true;
        }
    }

    protected override void ClosePin(int pinNumber)
    {
        lock (_gate)
        {
            var pin = PinAt(pinNumber);
            pin.IsOpen = false;
            pin.Callbacks.Clear();
        }
    }

    protected override void SetPinMode(int pinNumber, PinMode mode)
    {
        var pin = PinAt(pinNumber);
        if (!Enum.IsDefined(mode))
            throw new ArgumentOutOfRangeException(nameof(mode), mode, $"Simulated GPIO pin {pinNumber}: unknown pin mode.");
        Change(pinNumber, () =>
        {
            // An input switched to output starts from the level it presented, as the kernel does for a line without an explicit value.
            if (mode == PinMode.Output && pin.Mode != PinMode.Output) pin.Latch = Level(pin);
            pin.Mode = mode;
        });
    }

    protected override void SetPinMode(int pinNumber, PinMode mode, PinValue initialValue)
    {
        var pin = PinAt(pinNumber);
        Change(pinNumber, () =>
        {
            pin.Mode = mode;
            if (mode == PinMode.Output)
            {
                pin.Latch = initialValue;
                RecordWrite(pinNumber, initialValue);
            }
        });
    }

    protected override PinMode GetPinMode(int pinNumber)
    {
        lock (_gate) return PinAt(pinNumber).Mode;
    }

    protected override bool IsPinModeSupported(int pinNumber, PinMode mode) =>
        (uint)pinNumber < (uint)_pins.Length && Enum.IsDefined(mode);

    protected override PinValue Read(int pinNumber)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            return Level(PinAt(pinNumber));
        }
    }

    protected override void Write(int pinNumber, PinValue value)
    {
        var pin = PinAt(pinNumber);
        Change(pinNumber, () =>
        {
            if (pin.Mode != PinMode.Output)
                throw new InvalidOperationException($"Simulated GPIO pin {pinNumber} is in mode {pin.Mode}; only an output can be written.");
            pin.Latch = value;
            RecordWrite(pinNumber, value);
        });
    }

    protected override WaitForEventResult WaitForEvent(int pinNumber, PinEventTypes eventTypes, CancellationToken cancellationToken)
    {
        var pin = PinAt(pinNumber);
        lock (_gate)
        {
            long risingSeen = pin.RisingCount, fallingSeen = pin.FallingCount;
            using var registration = cancellationToken.CanBeCanceled
                ? cancellationToken.UnsafeRegister(static s => { lock (s!) Monitor.PulseAll(s); }, _gate)
                : default;
            while (true)
            {
                if (eventTypes.HasFlag(PinEventTypes.Rising) && pin.RisingCount != risingSeen)
                    return new WaitForEventResult { EventTypes = PinEventTypes.Rising, TimedOut = false };
                if (eventTypes.HasFlag(PinEventTypes.Falling) && pin.FallingCount != fallingSeen)
                    return new WaitForEventResult { EventTypes = PinEventTypes.Falling, TimedOut = false };
                if (cancellationToken.IsCancellationRequested || _disposed)
                    return new WaitForEventResult { EventTypes = PinEventTypes.None, TimedOut = true };
                Monitor.Wait(_gate);
            }
        }
    }

    protected override void AddCallbackForPinValueChangedEvent(int pinNumber, PinEventTypes eventTypes, PinChangeEventHandler callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        lock (_gate) PinAt(pinNumber).Callbacks.Add((eventTypes, callback));
    }

    protected override void RemoveCallbackForPinValueChangedEvent(int pinNumber, PinChangeEventHandler callback)
    {
        lock (_gate) PinAt(pinNumber).Callbacks.RemoveAll(c => c.Callback == callback);
    }

    public override GpioChipInfo GetChipInfo() => new(0, "simulated", "Qkd simulated GPIO", _pins.Length);

    protected override void Dispose(bool disposing)
    {
        lock (_gate)
        {
            _disposed = true;
            foreach (var pin in _pins) pin.Callbacks.Clear();
            Monitor.PulseAll(_gate);
        }
        base.Dispose(disposing);
    }

    // ------------------------------------------------------------------ internals

    /// <summary>
    /// Applies a change under the lock, then (outside it) reports the edge it caused on an input pin, if any.
    /// The callback list is copied under the lock so a callback may unregister itself while running.
    /// </summary>
    private void Change(int pinNumber, Action mutate)
    {
        var pin = PinAt(pinNumber);
        PinEventTypes edge;
        (PinEventTypes Types, PinChangeEventHandler Callback)[] callbacks;
        lock (_gate)
        {
            ThrowIfDisposed();
            PinValue before = Level(pin);
            mutate();
            PinValue after = Level(pin);
            if (before == after || pin.Mode == PinMode.Output || !pin.IsOpen) return;
            edge = after == PinValue.High ? PinEventTypes.Rising : PinEventTypes.Falling;
            if (edge == PinEventTypes.Rising) pin.RisingCount++;
            else pin.FallingCount++;
            Monitor.PulseAll(_gate);
            if (pin.Callbacks.Count == 0) return;
            callbacks = pin.Callbacks.ToArray();
        }
        PinValueChangedEventArgs? args = null;
        foreach (var (types, callback) in callbacks)
            if ((types & edge) != 0)
                callback(this, args ??= new PinValueChangedEventArgs(edge, pinNumber));
    }

    private void RecordWrite(int pinNumber, PinValue value) =>
        _writes.Add(new GpioWriteRecord(pinNumber, value, _clock.GetTimestamp()));

    private PinValue Level(Pin pin) => pin.Mode switch
    {
        PinMode.Output => pin.Latch,
        PinMode.InputPullUp => pin.ExternalDrive ?? PinValue.High,
        PinMode.InputPullDown => pin.ExternalDrive ?? PinValue.Low,
        _ => pin.ExternalDrive ?? FloatingLevel,
    };

    private Pin PinAt(int pinNumber)
    {
        if ((uint)pinNumber >= (uint)_pins.Length)
            throw new ArgumentOutOfRangeException(nameof(pinNumber), pinNumber, $"The simulated GPIO chip has pins 0..{_pins.Length - 1}.");
        return _pins[pinNumber];
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    private sealed class Pin
    {
        public bool IsOpen;
        public PinMode Mode = PinMode.Input;
        public PinValue Latch = PinValue.Low;
        public PinValue? ExternalDrive;
        public long RisingCount;
        public long FallingCount;
        public readonly List<(PinEventTypes Types, PinChangeEventHandler Callback)> Callbacks = [];
    }
}
