namespace Qkd.Calibration;

/// <summary>
/// The g2 coincidence: a time-difference histogram over its accidental level. Two independent channels of rates
/// r1 = N1 / T and r2 = N2 / T put r1 r2 w T = N1 N2 w / T pairs by chance into a bin of width w, at any difference;
/// dividing by that gives g2(tau) = 1 for independent channels, above 1 for bunched light and below 1 for antibunched
/// light (single photons). The level ignores the capture's ends (a difference tau pairs only over T - |tau|), which is
/// exact enough while the histogram's range is short against the capture.
/// </summary>
/// <param name="AccidentalPairsPerBin">N1 N2 w / T.</param>
/// <param name="G2">Counts per bin over <paramref name="AccidentalPairsPerBin"/>.</param>
/// <param name="ZeroBin">The bin holding difference 0; may lie outside the histogram.</param>
public sealed record G2Normalisation(double AccidentalPairsPerBin, double[] G2, int ZeroBin)
{
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
        return new G2Normalisation(accidental, g2, zero);
    }
}
