namespace Qkd.Core.Rings;

/// <summary>
/// How a ring's producer or consumer waits when it cannot proceed (ring full, ring empty), as in the LMAX Disruptor:
/// the caller trades latency against CPU. <see cref="SpinWaitStrategy"/> burns a core for the lowest latency,
/// <see cref="YieldingWaitStrategy"/> spins then yields, <see cref="BlockingWaitStrategy"/> parks the thread.
/// One strategy instance serves both ends of a ring (the producer waits for space, the consumer for data).
/// </summary>
public interface IWaitStrategy
{
    /// <summary>
    /// Waits until <paramref name="condition"/> returns true, <paramref name="timeout"/> passes
    /// (<see cref="Timeout.InfiniteTimeSpan"/> for never) or <paramref name="cancellationToken"/> is cancelled.
    /// Returns true when the condition held, false on timeout or cancellation (the caller tells them apart).
    /// The condition is evaluated on the waiting thread and must be cheap and side-effect free.
    /// </summary>
    bool WaitUntil(Func<bool> condition, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>
    /// Called by a ring after every publish, release and completion so parked waiters re-check their condition.
    /// Runs on the hot path: it must cost next to nothing when nobody waits.
    /// </summary>
    void Signal();
}
