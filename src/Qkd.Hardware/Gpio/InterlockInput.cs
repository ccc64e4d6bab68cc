using System.Device.Gpio;
using Qkd.Protocol;

namespace Qkd.Hardware.Gpio;

/// <summary>
/// A safety interlock on one GPIO input line (laser enclosure, fibre patch panel), over any <see cref="GpioController"/>.
/// Fail-safe debounce: an opening is reported at its first edge, because a late "open" can hurt someone; a closing is
/// reported only after the line has read closed without interruption for <c>debounceNs</c>, so contact bounce
/// neither flickers the state nor re-enables the laser early. Bounce while opening produces no extra events either:
/// the state is already Open and each closed-going bounce restarts the stability wait.
/// </summary>
/// <remarks>
/// Edges arrive on the driver's callback thread; the stability wait runs on a <see cref="TimeProvider"/> timer and
/// re-reads the line before accepting, so a missed edge cannot leave the state Closed while the line is open.
/// Also at start-up a closed line counts as closed only after the debounce time. Events are raised outside the lock.
/// </remarks>
public sealed class InterlockInput : IDisposable
{
    private readonly object _gate = new();
    private readonly GpioController _controller;
    private readonly bool _openedPin;
    private readonly PinChangeEventHandler _onEdge;
    private readonly ITimer? _settleTimer;
    private readonly HostMonotonicClock _clock;
    private readonly long _debounceTicks;
    private InterlockState _state = InterlockState.Open;
    private long _transitions;
    private long _rawEdges;
    private long _lastTransitionPs;
    private bool _closePending;
    private long _closePendingSinceTicks;
    private bool _disposed;

    public InterlockInput(GpioController controller, int pin, long debounceNs = 5_000_000, PinValue? closedLevel = null,
        PinMode mode = PinMode.InputPullUp, TimeProvider? clock = null, string name = "interlock")
    {
        ArgumentNullException.ThrowIfNull(controller);
        if (mode == PinMode.Output)
            throw new ArgumentException($"{name}: GPIO {pin} must be opened as an input, not {mode}.", nameof(mode));
        if (debounceNs is < 0 or > GpioLinesOptions.MaxDurationNs)
            throw new ArgumentOutOfRangeException(nameof(debounceNs), debounceNs, $"{name}: debounce must be within 0..{GpioLinesOptions.MaxDurationNs} ns.");
        _controller = controller;
        Pin = pin;
        Name = name;
        DebounceNs = debounceNs;
        ClosedLevel = closedLevel ?? PinValue.Low;
        _clock = new HostMonotonicClock(clock ?? TimeProvider.System);
        _debounceTicks = _clock.TicksFromNs(debounceNs);

        _openedPin = GpioLines.OpenInput(controller, pin, mode, name);
        _onEdge = OnEdge;
        if (debounceNs > 0)
            _settleTimer = _clock.Provider.CreateTimer(static s => ((InterlockInput)s!).OnSettleTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        try
        {
            controller.RegisterCallbackForPinValueChangedEvent(pin, PinEventTypes.Rising | PinEventTypes.Falling, _onEdge);
            long now = _clock.Provider.GetTimestamp();
            if (controller.Read(pin) == ClosedLevel)
            {
                lock (_gate) BeginClose(now, out _);
            }
        }
        catch (Exception ex) when (ex is not DeviceException)
        {
            Dispose();
            throw new DeviceException($"{name} (GPIO {pin})", "start watching the interlock line", ex.Message, ex);
        }
    }

    public string Name { get; }
    public int Pin { get; }
    public long DebounceNs { get; }
    public PinValue ClosedLevel { get; }

    /// <summary>Raised once per accepted opening (immediately at the opening edge).</summary>
    public event EventHandler<InterlockEventArgs>? Opened;

    /// <summary>Raised once per accepted closing (after the line stayed closed for the debounce time).</summary>
    public event EventHandler<InterlockEventArgs>? Closed;

    public InterlockState State
    {
        get { lock (_gate) return _state; }
    }

    public bool IsClosed => State == InterlockState.Closed;

    /// <summary>Accepted transitions (Opened + Closed events) since construction.</summary>
    public long TransitionCount => Interlocked.Read(ref _transitions);

    /// <summary>Every edge the driver reported, bounces included: a rising count against <see cref="TransitionCount"/> shows a worn contact.</summary>
    public long RawEdgeCount => Interlocked.Read(ref _rawEdges);

    /// <summary>Time of the last accepted transition's edge, host monotonic picoseconds (0 before the first).</summary>
    public long LastTransitionPs
    {
        get { lock (_gate) return _lastTransitionPs; }
    }

    /// <summary>The raw line right now, without debounce.</summary>
    public bool LineReadsClosed => _controller.Read(Pin) == ClosedLevel;

    private void OnEdge(object sender, PinValueChangedEventArgs args)
    {
        long now = _clock.Provider.GetTimestamp();
        Interlocked.Increment(ref _rawEdges);
        PinValue level = args.ChangeType == PinEventTypes.Rising ? PinValue.High : PinValue.Low;
        InterlockEventArgs? raise = null;
        lock (_gate)
        {
            if (_disposed) return;
            if (level != ClosedLevel)
            {
                _closePending = false;
                _settleTimer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                if (_state == InterlockState.Closed) raise = Accept(InterlockState.Open, now);
            }
            else if (_state == InterlockState.Open)
            {
                BeginClose(now, out raise);
            }
        }
        if (raise is not null) Raise(raise);
    }

    /// <summary>Under the lock: start the stability wait for a closing, or accept it at once without debounce.</summary>
    private void BeginClose(long nowTicks, out InterlockEventArgs? raise)
    {
        raise = null;
        if (_settleTimer is null)
        {
            raise = Accept(InterlockState.Closed, nowTicks);
            return;
        }
        _closePending = true;
        _closePendingSinceTicks = nowTicks;
        _settleTimer.Change(TimeSpan.FromTicks(Math.Max(1, (DebounceNs + 99) / 100)), Timeout.InfiniteTimeSpan);
    }

    private void OnSettleTimer()
    {
        InterlockEventArgs? raise = null;
        lock (_gate)
        {
            if (_disposed || !_closePending) return;
            long now = _clock.Provider.GetTimestamp();
            if (now - _closePendingSinceTicks < _debounceTicks)
            {
                // A timer can fire a little early on some clocks; wait out the rest.
                _settleTimer!.Change(TimeSpan.FromTicks(Math.Max(1, (_debounceTicks - (now - _closePendingSinceTicks)) * TimeSpan.TicksPerSecond / _clock.Provider.TimestampFrequency)), Timeout.InfiniteTimeSpan);
                return;
            }
            _closePending = false;
            bool stillClosed;
            try { stillClosed = _controller.Read(Pin) == ClosedLevel; }
            catch (Exception) { stillClosed = false; } // cannot read the line: stay Open (fail safe)
            if (stillClosed) raise = Accept(InterlockState.Closed, _closePendingSinceTicks);
        }
        if (raise is not null) Raise(raise);
    }

    private InterlockEventArgs Accept(InterlockState state, long edgeTicks)
    {
        _state = state;
        _lastTransitionPs = _clock.ToPs(edgeTicks);
        long count = Interlocked.Increment(ref _transitions);
        return new InterlockEventArgs(state, _lastTransitionPs, count);
    }

    private void Raise(InterlockEventArgs args) =>
        (args.State == InterlockState.Open ? Opened : Closed)?.Invoke(this, args);

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
        }
        _settleTimer?.Dispose();
        GpioLines.Release(_controller, Pin, _onEdge, _openedPin);
    }
}
