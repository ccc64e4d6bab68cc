namespace Qkd.Core.Rings;

/// <summary>
/// Parks the waiting thread on a monitor and wakes it when the other side publishes, releases or completes: no CPU
/// while idle, microseconds of wake-up latency. For consumers that wait long (a quiet link, a paused tagger).
/// </summary>
/// <remarks>
/// No lost wake-ups, by a Dekker-style handshake: a waiter announces itself (interlocked increment of the waiter
/// count, a full fence) before it checks the condition, and <see cref="Signal"/> puts a full fence between the
/// ring's cursor store and its read of the waiter count. So either the signaller sees the waiter and pulses, or the
/// waiter's check sees the new cursor. The check and the park happen under the monitor, and the pulse takes the
/// monitor too, so a pulse cannot slip in between them. When nobody waits, <see cref="Signal"/> costs one fence.
/// One instance may be shared by several rings: a wake-up meant for another ring only costs a re-check.
/// </remarks>
public sealed class BlockingWaitStrategy : IWaitStrategy
{
    private readonly object _monitor = new();
    private int _waiters;

    /// <summary>Threads parked (or about to park) right now. For diagnostics and tests.</summary>
    public int WaiterCount => Volatile.Read(ref _waiters);

    public bool WaitUntil(Func<bool> condition, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = WaitDeadline.Start(timeout);
        if (condition()) return true;
        if (cancellationToken.IsCancellationRequested) return false;

        Interlocked.Increment(ref _waiters);
        CancellationTokenRegistration registration = default;
        try
        {
            // Cancellation must wake a parked thread; registering allocates, but only on the way to a park.
            if (cancellationToken.CanBeCanceled)
                registration = cancellationToken.UnsafeRegister(static s => ((BlockingWaitStrategy)s!).WakeAll(), this);
            lock (_monitor)
            {
                while (true)
                {
                    if (condition()) return true;
                    if (cancellationToken.IsCancellationRequested) return false;
                    int milliseconds = deadline.RemainingMilliseconds;
                    if (milliseconds == 0) return false;
                    Monitor.Wait(_monitor, milliseconds);
                }
            }
        }
        finally
        {
            // Outside the monitor: Dispose waits for a running cancellation callback, which takes the monitor.
            registration.Dispose();
            Interlocked.Decrement(ref _waiters);
        }
    }

    public void Signal()
    {
        Interlocked.MemoryBarrier(); // order the caller's cursor store before the waiter-count load (see remarks)
        if (Volatile.Read(ref _waiters) != 0)
            WakeAll();
    }

    private void WakeAll()
    {
        lock (_monitor)
            Monitor.PulseAll(_monitor);
    }
}
