using System.Diagnostics;

namespace Qkd.Core.Rings;

/// <summary>A timeout turned into an absolute deadline on the monotonic clock, so that repeated waits share one budget.</summary>
internal readonly struct WaitDeadline
{
    private readonly long _deadlineTicks; // long.MaxValue: never

    private WaitDeadline(long deadlineTicks) => _deadlineTicks = deadlineTicks;

    public static WaitDeadline Start(TimeSpan timeout)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
            return new WaitDeadline(long.MaxValue);
        if (timeout < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must be zero or positive, or Timeout.InfiniteTimeSpan.");
        long ticks = (long)Math.Min(timeout.TotalSeconds * Stopwatch.Frequency, long.MaxValue / 2.0);
        return new WaitDeadline(Stopwatch.GetTimestamp() + ticks);
    }

    public bool IsInfinite => _deadlineTicks == long.MaxValue;

    public bool HasExpired => !IsInfinite && Stopwatch.GetTimestamp() >= _deadlineTicks;

    /// <summary>What is left, in whole milliseconds rounded up, for Monitor.Wait; -1 (infinite) when there is no deadline.</summary>
    public int RemainingMilliseconds
    {
        get
        {
            if (IsInfinite) return Timeout.Infinite;
            long left = _deadlineTicks - Stopwatch.GetTimestamp();
            if (left <= 0) return 0;
            double ms = Math.Ceiling(left * 1000.0 / Stopwatch.Frequency);
            return ms >= int.MaxValue ? int.MaxValue - 1 : (int)ms;
        }
    }

    /// <summary>What is left as a timeout for a further wait.</summary>
    public TimeSpan Remaining
    {
        get
        {
            if (IsInfinite) return Timeout.InfiniteTimeSpan;
            long left = _deadlineTicks - Stopwatch.GetTimestamp();
            return left <= 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(0, left);
        }
    }
}
