using System.Numerics;

namespace Qkd.Acquisition.Replay;

/// <summary>
/// A PTU time unit (MeasDesc_GlobalResolution, MeasDesc_Resolution) held exactly as a fraction of picoseconds,
/// <see cref="Numerator"/> / <see cref="Denominator"/>. The header stores the unit as a double, which is the nearest
/// double to what the instrument meant (1/39 MHz is 10^6/39 ps); the fraction is the simplest one that rounds to
/// that double, so a 39 MHz sync period is 10^6/39 ps exactly, not 25,641.026 ps (rounding to femtoseconds drifted
/// 14 ns per second at 39 MHz). Times are then products of integers in 128 bits, rounded once to picoseconds.
/// </summary>
/// <remarks>A double with no fraction of denominator up to <see cref="MaxDenominator"/> in its rounding interval gets the
/// closest such fraction instead: its error, under 1/(q·q') ps per unit for the continued fraction's consecutive
/// denominators, is far below the double's own (2^-53 relative).</remarks>
public readonly record struct RationalPicoseconds
{
    /// <summary>Largest denominator kept, so that products stay within 128 bits for any time below 2^63 ps.</summary>
    public const long MaxDenominator = 1L << 24;

    private RationalPicoseconds(long numerator, long denominator)
    {
        Numerator = numerator;
        Denominator = denominator;
    }

    public long Numerator { get; }
    public long Denominator { get; }

    /// <summary>The simplest fraction of picoseconds that rounds to <paramref name="seconds"/> as a double.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a positive finite number of seconds, or one over 0.1 s (no tagger
    /// has a coarser unit; the bound keeps the numerator within 64 bits).</exception>
    public static RationalPicoseconds FromSeconds(double seconds)
    {
        if (!double.IsFinite(seconds) || seconds <= 0 || seconds > 0.1)
            throw new ArgumentOutOfRangeException(nameof(seconds), seconds, "A time unit must be a positive number of seconds up to 0.1.");
        // seconds = mantissa * 2^exponent exactly; its rounding interval is +- half a unit in the last place, 2^(exponent-1).
        long bits = BitConverter.DoubleToInt64Bits(seconds);
        int biased = (int)((bits >> 52) & 0x7FF);
        long mantissa = bits & ((1L << 52) - 1);
        if (biased != 0) mantissa |= 1L << 52;
        int exponent = (biased == 0 ? 1 : biased) - 1075;
        // The exact value in ps: mantissa * 10^12 * 2^exponent = n / d.
        BigInteger n = mantissa * BigInteger.Pow(10, 12), d = BigInteger.One;
        if (exponent >= 0) n <<= exponent;
        else d <<= -exponent;
        // Continued-fraction convergents h/k of n/d; the first one inside the rounding interval is the simplest fraction
        // there: |h/k - n/d| <= 2^(exponent-1) * 10^12  <=>  2 |h d - n k| <= k * 10^12 * 2^exponent * d.
        BigInteger hPrev = 0, kPrev = 1, h = 1, k = 0, num = n, den = d;
        // Times k, the right-hand side: k * 10^12 * 2^exponent * d is k * 10^12 * 2^exponent when d = 1, and k * 10^12 when d = 2^-exponent.
        BigInteger halfUlpScale = exponent >= 0 ? BigInteger.Pow(10, 12) << exponent : BigInteger.Pow(10, 12);
        while (true)
        {
            BigInteger a = BigInteger.DivRem(num, den, out BigInteger rest);
            BigInteger hNext = a * h + hPrev, kNext = a * k + kPrev;
            if (kNext > MaxDenominator) break;
            (hPrev, kPrev, h, k) = (h, k, hNext, kNext);
            BigInteger error = BigInteger.Abs(h * d - n * k) * 2;
            if (error <= k * halfUlpScale || rest.IsZero) break;
            (num, den) = (den, rest);
        }
        if (k.IsZero || h.IsZero) throw new ArgumentOutOfRangeException(nameof(seconds), seconds, "The time unit is below a picosecond fraction this reader can hold.");
        if (h > long.MaxValue) throw new ArgumentOutOfRangeException(nameof(seconds), seconds, "The time unit is too coarse for this reader.");
        return new RationalPicoseconds((long)h, (long)k);
    }

    /// <summary><paramref name="count"/> units in picoseconds, rounded half up.</summary>
    public long Times(long count) => RoundedPicoseconds((Int128)count * Numerator, Denominator);

    /// <summary>
    /// <paramref name="syncs"/> of this unit (the T3 sync period) plus <paramref name="dtime"/> of <paramref name="bin"/>
    /// (the dtime resolution), exactly, rounded half up once.
    /// </summary>
    public long Plus(long syncs, RationalPicoseconds bin, long dtime) =>
        RoundedPicoseconds((Int128)syncs * Numerator * bin.Denominator + (Int128)dtime * bin.Numerator * Denominator,
            (Int128)Denominator * bin.Denominator);

    public double ToDouble() => (double)Numerator / Denominator;

    public override string ToString() => Denominator == 1 ? $"{Numerator} ps" : $"{Numerator}/{Denominator} ps";

    private static long RoundedPicoseconds(Int128 numerator, Int128 denominator) => checked((long)((2 * numerator + denominator) / (2 * denominator)));
}
