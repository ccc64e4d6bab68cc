namespace Qkd.Emulation.Firmware;

/// <summary>
/// Device time moved by the test or scenario: nothing happens in it unless someone advances it, so a scenario that
/// waits for a cooler to settle is exact and independent of machine speed. Thread-safe.
/// </summary>
public sealed class ManualDeviceClock : IDeviceClock
{
    private long _nowPs;

    public ManualDeviceClock(long startPs = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(startPs);
        _nowPs = startPs;
    }

    public long NowPs => Interlocked.Read(ref _nowPs);

    /// <summary>Moves time on by <paramref name="ps"/> picoseconds (>= 0).</summary>
    public void Advance(long ps)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ps);
        Interlocked.Add(ref _nowPs, ps);
    }

    /// <summary>Moves time on by a <see cref="TimeSpan"/>.</summary>
    public void Advance(TimeSpan span) => Advance(span.Ticks * 100_000L);
}
