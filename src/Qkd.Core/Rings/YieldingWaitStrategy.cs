namespace Qkd.Core.Rings;

/// <summary>
/// Spins a short while (the other side is usually only nanoseconds away), then yields the processor on every further
/// check, so a waiting thread leaves its core to others without paying for a kernel park and wake-up. The Disruptor's
/// compromise between latency and CPU. Stateless, so one instance serves any number of rings.
/// </summary>
public sealed class YieldingWaitStrategy : IWaitStrategy
{
    private const int DefaultSpinTries = 100;
    private const int PollInterval = 64;

    private readonly int _spinTries;

    public YieldingWaitStrategy(int spinTries = DefaultSpinTries)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(spinTries);
        _spinTries = spinTries;
    }

    public static YieldingWaitStrategy Instance { get; } = new();

    public int SpinTries => _spinTries;

    public bool WaitUntil(Func<bool> condition, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = WaitDeadline.Start(timeout);
        for (int tries = 0; ; tries++)
        {
            if (condition()) return true;
            if (tries % PollInterval == 0 && (cancellationToken.IsCancellationRequested || deadline.HasExpired))
                return false;
            if (tries < _spinTries)
                Thread.SpinWait(1);
            else if (!Thread.Yield())
                Thread.Sleep(0); // nothing else runnable on this core: let any other core's threads in
        }
    }

    /// <summary>Nothing to wake: yielding threads re-check by themselves.</summary>
    public void Signal() { }
}
