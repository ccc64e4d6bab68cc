namespace Qkd.Emulation;

/// <summary>
/// Maps a pulse slot to its arrival time on Bob's clock:
/// t = (i * period + fibre delay) * (1 + drift_ppm * 1e-6) + clock offset (+ jitter, added by the caller).
/// The scaled period is held as whole picoseconds plus a 64-bit binary fraction and multiplied in 128 bits, so times
/// stay exact to well under a picosecond for any pulse index (a double would lose picoseconds after ~1e15 ps).
/// Times overflow a long after about 106 days of link time.
/// </summary>
internal sealed class BobClock
{
    private const double Two64 = 18446744073709551616.0;
    private const double InverseTwo64 = 1.0 / Two64;

    private readonly long _periodWholePs;
    private readonly ulong _periodFraction;
    private readonly long _offsetWholePs;
    private readonly double _offsetFractionPs;

    public BobClock(LinkProfile profile)
    {
        double rate = 1.0 + profile.ClockDriftPpm * 1e-6;
        double period = profile.PulsePeriodPs * rate;
        _periodWholePs = (long)Math.Floor(period);
        double fraction = (period - _periodWholePs) * Two64;
        _periodFraction = fraction >= Two64 ? ulong.MaxValue : (ulong)fraction;

        double delay = profile.FibreDelayPs * rate;
        long delayWhole = (long)Math.Floor(delay);
        _offsetWholePs = delayWhole + profile.ClockOffsetPs;
        _offsetFractionPs = delay - delayWhole;
    }

    /// <summary>Arrival time of pulse <paramref name="pulse"/> plus <paramref name="jitterPs"/>, rounded to the picosecond.</summary>
    public long TimeAt(long pulse, double jitterPs)
    {
        ulong high = Math.BigMul((ulong)pulse, _periodFraction, out ulong low);
        double subPicosecond = low * InverseTwo64 + _offsetFractionPs + jitterPs;
        return pulse * _periodWholePs + (long)high + _offsetWholePs + (long)Math.Floor(subPicosecond + 0.5);
    }
}
