namespace Qkd.Emulation.Buses;

/// <summary>
/// A <see cref="TimeProvider"/> whose monotonic timestamp moves only when a test (or a scenario script) calls
/// <see cref="Advance(long)"/>, so debounce windows and edge timestamps are exact and repeatable. One tick is one
/// nanosecond. Timers created through <see cref="TimeProvider.CreateTimer"/> fire inside <see cref="Advance(long)"/>, on
/// the advancing thread, in due-time order, which is how deferred decisions (an interlock's "closed long enough")
/// are tested without sleeping.
/// </summary>
public sealed class SimulatedClock : TimeProvider
{
    public const long TicksPerSecond = 1_000_000_000;

    private readonly object _gate = new();
    private readonly List<ManualTimer> _timers = [];
    private long _nowNs;

    public SimulatedClock(long startNs = 0) => _nowNs = startNs;

    public override long TimestampFrequency => TicksPerSecond;

    public override long GetTimestamp() => Volatile.Read(ref _nowNs);

    /// <summary>Current time in nanoseconds.</summary>
    public long NowNs => Volatile.Read(ref _nowNs);

    /// <summary>Moves time forward by <paramref name="ns"/> nanoseconds, firing every timer that falls due on the way.</summary>
    public void Advance(long ns)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ns);
        long target = NowNs + ns;
        while (true)
        {
            ManualTimer? due = null;
            lock (_gate)
            {
                foreach (var timer in _timers)
                    if (timer.DueNs <= target && (due is null || timer.DueNs < due.DueNs))
                        due = timer;
                if (due is null)
                {
                    Volatile.Write(ref _nowNs, target);
                    return;
                }
                Volatile.Write(ref _nowNs, Math.Max(_nowNs, due.DueNs));
                due.Reschedule();
            }
            due.Fire(); // outside the lock: the callback may create or change timers
        }
    }

    public void Advance(TimeSpan delta) => Advance(delta.Ticks * 100);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new ManualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    private static long ToNs(TimeSpan span) => span == Timeout.InfiniteTimeSpan ? -1 : span.Ticks * 100;

    private sealed class ManualTimer(SimulatedClock clock, TimerCallback callback, object? state) : ITimer
    {
        private long _periodNs = -1;

        public long DueNs { get; private set; } = long.MaxValue;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock._gate)
            {
                clock._timers.Remove(this);
                long dueNs = ToNs(dueTime);
                _periodNs = ToNs(period);
                if (dueNs < 0) return true;
                DueNs = clock._nowNs + dueNs;
                clock._timers.Add(this);
                return true;
            }
        }

        /// <summary>Called under the clock's lock when the timer fires: re-arm a periodic timer, drop a one-shot.</summary>
        public void Reschedule()
        {
            if (_periodNs > 0) DueNs += _periodNs;
            else clock._timers.Remove(this);
        }

        public void Fire() => callback(state);

        public void Dispose()
        {
            lock (clock._gate)
                clock._timers.Remove(this);
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
