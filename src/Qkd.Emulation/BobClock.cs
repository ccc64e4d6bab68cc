namespace Qkd.Emulation;

/// <summary>
/// Maps a pulse slot to its arrival time on Bob's clock:
/// t = (i * period + fibre delay) * (1 + drift_ppm * 1e-6) + clock offset (+ jitter, added by the caller).
/// The scaled period is worked out once in decimal arithmetic and held as whole picoseconds plus a 64-bit binary
/// fraction; per click it is multiplied in 128 bits, so times stay within half a picosecond of the exact value for
/// any pulse index (a double period would be off by picoseconds after ~1e14 pulses, a day at 1 GHz).
/// Times overflow a long after about 106 days of link time.
/// </summary>
internal sealed class BobClock
{
    private const double InverseTwo64 = 1.0 / 18446744073709551616.0;
    private const decimal Two64 = 18446744073709551616m;

    private readonly long _periodWholePs;
    private readonly ulong _periodFraction;
    private readonly long _offsetWholePs;
    private readonly double _offsetFractionPs;

    /// <param name="profile">Fibre, clock offset and drift.</param>
    /// <param name="pulseRateHz">Alice's pulse rate (her transmitter's setting).</param>
    public BobClock(LinkProfile profile, double pulseRateHz)
    {
        // decimal(double) keeps 15 significant digits, which is how the profile's numbers were written.
        decimal rate = 1m + (decimal)profile.ClockDriftPpm * 0.000001m;
        decimal period = 1_000_000_000_000m / (decimal)pulseRateHz * rate;
        _periodWholePs = (long)decimal.Floor(period);
        _periodFraction = (ulong)decimal.Floor((period - _periodWholePs) * Two64);

        decimal delay = (decimal)profile.FibreLengthKm * 1000m * (decimal)profile.FibreGroupIndex
            / (decimal)LinkProfile.SpeedOfLightMetresPerSecond * 1_000_000_000_000m * rate;
        long delayWhole = (long)decimal.Floor(delay);
        _offsetWholePs = delayWhole + profile.ClockOffsetPs;
        _offsetFractionPs = (double)(delay - delayWhole);
    }

    /// <summary>Arrival time of pulse <paramref name="pulse"/> plus <paramref name="jitterPs"/>, rounded to the picosecond.</summary>
    public long TimeAt(long pulse, double jitterPs)
    {
        ulong high = Math.BigMul((ulong)pulse, _periodFraction, out ulong low);
        double subPicosecond = low * InverseTwo64 + _offsetFractionPs + jitterPs;
        return pulse * _periodWholePs + (long)high + _offsetWholePs + (long)Math.Floor(subPicosecond + 0.5);
    }
}
