namespace Qkd.Hardware.Gpio;

/// <summary>
/// Converts a <see cref="TimeProvider"/>'s monotonic timestamps (Stopwatch ticks for <see cref="TimeProvider.System"/>)
/// to picoseconds without allocating and without overflow: the common frequencies (1 GHz on Linux, 10 MHz on Windows)
/// divide 10^12 exactly and take one multiply; any other frequency goes through 128-bit arithmetic.
/// </summary>
public readonly struct HostMonotonicClock
{
    private const long PicosecondsPerSecond = 1_000_000_000_000;
    private readonly long _psPerTick; // 0 when the frequency does not divide 10^12
    private readonly long _frequency;

    public HostMonotonicClock(TimeProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        Provider = provider;
        _frequency = provider.TimestampFrequency;
        _psPerTick = PicosecondsPerSecond % _frequency == 0 ? PicosecondsPerSecond / _frequency : 0;
    }

    public TimeProvider Provider { get; }

    /// <summary>Now on the host's monotonic clock, picoseconds since an arbitrary origin.</summary>
    public long NowPs => ToPs(Provider.GetTimestamp());

    public long ToPs(long timestamp) =>
        _psPerTick != 0 ? timestamp * _psPerTick : (long)((Int128)timestamp * PicosecondsPerSecond / _frequency);

    /// <summary>Timestamp ticks in <paramref name="ns"/> nanoseconds, rounded up so waits are never short.</summary>
    public long TicksFromNs(long ns) => (long)(((Int128)ns * _frequency + 999_999_999) / 1_000_000_000);
}
