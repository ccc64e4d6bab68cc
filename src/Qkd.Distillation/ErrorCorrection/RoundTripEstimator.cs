using System.Diagnostics;

namespace Qkd.Distillation.ErrorCorrection;

/// <summary>
/// The classical channel's round trip as Bob sees it: the smallest of the last <see cref="Window"/> request/response
/// exchanges. A reply also carries Alice's work and any queueing, which only add; the minimum over a recent window
/// is the network's share and still follows a route that changes. Allocation-free.
/// </summary>
public sealed class RoundTripEstimator
{
    public const int Window = 32;

    private readonly long[] _samples = new long[Window];
    private int _count, _next;

    /// <summary>Records one exchange that took <paramref name="stopwatchTicks"/> (<see cref="Stopwatch"/> ticks).</summary>
    public void Add(long stopwatchTicks)
    {
        if (stopwatchTicks < 0) return;
        _samples[_next] = stopwatchTicks;
        _next = (_next + 1) % Window;
        if (_count < Window) _count++;
    }

    /// <summary>The estimate; null before any exchange.</summary>
    public TimeSpan? Current
    {
        get
        {
            if (_count == 0) return null;
            long min = long.MaxValue;
            for (int i = 0; i < _count; i++) min = Math.Min(min, _samples[i]);
            return Stopwatch.GetElapsedTime(0, min);
        }
    }
}
