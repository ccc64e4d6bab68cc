namespace Qkd.Calibration;

/// <summary>
/// The g2 coincidence: a time-difference histogram over its accidental level. Two independent channels of rates
/// r1 = N1 / T and r2 = N2 / T put r1 r2 w T = N1 N2 w / T pairs by chance into a bin of width w, at any difference;
/// dividing by that gives g2(tau) = 1 for independent channels, above 1 for bunched light and below 1 for antibunched
/// light (single photons). The level ignores the capture's ends (a difference tau pairs only over T - |tau|), which is
/// exact enough while the histogram's range is short against the capture.
/// <para>
/// This is the normalisation for continuous light. For pulsed light the pairs bunch into peaks a period apart, each
/// bin's g2 reads about P / (peak width) on a peak and 0 between them, and g2(0) is a ratio of peak areas:
/// <see cref="PulsedG2"/>.
/// </para>
/// <para>
/// Uncertainty of g2 in a bin holding c pairs, Poisson: var g2 = c / L^2 + g2^2 (1/N1 + 1/N2) with L the accidental
/// level (an empty bin counts as one pair). g2(0) (<see cref="EstimateAtZero"/>) needs an accidental level of at least
/// <see cref="MinimumAccidentalPairsPerBin"/> pairs per bin, where one bin's g2 is known to about 30 %.
/// </para>
/// </summary>
/// <param name="AccidentalPairsPerBin">N1 N2 w / T.</param>
/// <param name="G2">Counts per bin over <paramref name="AccidentalPairsPerBin"/>.</param>
/// <param name="ZeroBin">The bin holding difference 0; may lie outside the histogram.</param>
public sealed record G2Normalisation(double AccidentalPairsPerBin, double[] G2, int ZeroBin)
{
    /// <summary>Accidental pairs per bin needed before g2(0) is published.</summary>
    public const double MinimumAccidentalPairsPerBin = 10;

    /// <summary>N1: event tags on the start channel.</summary>
    public long StartTags { get; init; }

    /// <summary>N2: event tags on the stop channel.</summary>
    public long StopTags { get; init; }

    /// <summary>One-sigma Poisson uncertainty of g2 in bin <paramref name="bin"/> (see the type's remarks).</summary>
    public double Uncertainty(int bin)
    {
        double g2 = G2[bin], pairs = Math.Max(g2 * AccidentalPairsPerBin, 1);
        double relativeLevel = (StartTags > 0 ? 1.0 / StartTags : 0) + (StopTags > 0 ? 1.0 / StopTags : 0);
        return Math.Sqrt(pairs / (AccidentalPairsPerBin * AccidentalPairsPerBin) + g2 * g2 * relativeLevel);
    }

    /// <summary>
    /// g2(0) with its uncertainty, or why the data cannot support it: no accidental level (no time, a silent channel),
    /// 0 ps outside the range, or fewer than <see cref="MinimumAccidentalPairsPerBin"/> accidental pairs per bin (the
    /// refusal says how much longer to capture; the level grows with the capture's length).
    /// </summary>
    public static Refusable<ContinuousG2> EstimateAtZero(TimeDifferenceHistogram histogram, double durationPs)
    {
        var g2 = Normalise(histogram, durationPs);
        if (g2 is null)
            return Refusable<ContinuousG2>.Refused(histogram.StartTags == 0 || histogram.StopTags == 0
                ? $"channel {(histogram.StartTags == 0 ? histogram.StartChannel : histogram.StopChannel)} has no tag: g2 needs light on both channels"
                : "the capture has no duration (fewer than two tags)");
        if (g2.AtZero is not double atZero)
            return Refusable<ContinuousG2>.Refused($"the range [{histogram.MinPs}, {histogram.MaxPs}) ps does not include 0 ps");
        if (g2.AccidentalPairsPerBin < MinimumAccidentalPairsPerBin)
            return Refusable<ContinuousG2>.Refused($"g2(0) needs an accidental level of at least {MinimumAccidentalPairsPerBin:F0} pairs per bin; " +
                $"this capture has {g2.AccidentalPairsPerBin:G3} ({histogram.StartTags:N0} x {histogram.StopTags:N0} tags, {histogram.BinWidthPs} ps bins, " +
                $"{durationPs / 1e12:G3} s): capture about {MinimumAccidentalPairsPerBin / g2.AccidentalPairsPerBin:G3} times longer, or widen the bins");
        return Refusable<ContinuousG2>.Of(new ContinuousG2(g2, atZero, g2.Uncertainty(g2.ZeroBin), histogram.Counts[g2.ZeroBin]));
    }

    /// <summary>g2 at difference 0, or null when the histogram's range does not include it.</summary>
    public double? AtZero => ZeroBin >= 0 && ZeroBin < G2.Length ? G2[ZeroBin] : null;

    /// <summary>Accidental pairs per bin: N1 N2 w / T (rate1 * rate2 * bin * T).</summary>
    public static double AccidentalPairs(long startTags, long stopTags, long binWidthPs, double durationPs) =>
        (double)startTags * stopTags * binWidthPs / durationPs;

    /// <summary>g2 of <paramref name="histogram"/> (filled with every pair, <see cref="PairingMode.AllPairs"/>).</summary>
    /// <param name="durationPs">T: the span of the tags the histogram was filled from, ps.</param>
    /// <returns>Null when there is no accidental level to divide by: no time, or no tag on one of the channels.</returns>
    public static G2Normalisation? Normalise(TimeDifferenceHistogram histogram, double durationPs)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        if (histogram.Mode != PairingMode.AllPairs)
            throw new ArgumentException("g2 needs every pair (AllPairs); start-stop pairing undercounts long differences.", nameof(histogram));
        if (!(durationPs > 0) || histogram.StartTags <= 0 || histogram.StopTags <= 0) return null;
        double accidental = AccidentalPairs(histogram.StartTags, histogram.StopTags, histogram.BinWidthPs, durationPs);
        ReadOnlySpan<long> counts = histogram.Counts;
        var g2 = new double[counts.Length];
        for (int i = 0; i < g2.Length; i++) g2[i] = counts[i] / accidental;
        int zero = (int)Math.Floor((0 - histogram.MinPs) / (double)histogram.BinWidthPs);
        return new G2Normalisation(accidental, g2, zero) { StartTags = histogram.StartTags, StopTags = histogram.StopTags };
    }
}
