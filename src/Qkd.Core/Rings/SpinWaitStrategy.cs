namespace Qkd.Core.Rings;

/// <summary>
/// Busy spin with a pause hint: the lowest wake-up latency and a whole core burnt while waiting. For a dedicated,
/// pinned acquisition thread on a machine with cores to spare. Stateless, so one instance serves any number of rings.
/// </summary>
public sealed class SpinWaitStrategy : IWaitStrategy
{
    /// <summary>Deadline and cancellation are polled once per this many spins: reading the clock costs more than a spin.</summary>
    private const int PollInterval = 1024;

    public static SpinWaitStrategy Instance { get; } = new();

    public bool WaitUntil(Func<bool> condition, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = WaitDeadline.Start(timeout);
        for (int spins = 0; ; spins++)
        {
            if (condition()) return true;
            if (spins % PollInterval == 0 && (cancellationToken.IsCancellationRequested || deadline.HasExpired))
                return false;
            Thread.SpinWait(1);
        }
    }

    /// <summary>Nothing to wake: spinners see the new cursor by themselves.</summary>
    public void Signal() { }
}
