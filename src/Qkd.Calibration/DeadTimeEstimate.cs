namespace Qkd.Calibration;

/// <summary>
/// A detector's dead time read off its click-to-next-click histogram: no interval can be shorter than the dead time,
/// so the histogram rises from (almost) nothing to its highest level at the dead time. The edge is the first bin that
/// reaches half the level just after it (a few stray counts below, such as free-running noise that is not dead-time
/// limited, do not move it; see <see cref="Find"/>); the dead time is the mean gap in that bin, which for a gated detector is the exact number
/// of periods the detector stays blind.
/// </summary>
/// <param name="DeadTimePs">The dead time, ps; NaN when the histogram holds too few intervals to show an edge.</param>
/// <param name="EdgeBin">The first bin at half the level or above; -1 when not found.</param>
/// <param name="FirstGapPs">The smallest interval with counts (the raw edge, before the half-level refinement), ps; NaN if none.</param>
/// <param name="LevelCounts">The level just after the edge (highest three-bin average), counts per bin.</param>
public readonly record struct DeadTimeEstimate(double DeadTimePs, int EdgeBin, double FirstGapPs, double LevelCounts)
{
    /// <summary>The level below which an edge is not trusted (a three-bin average under this many counts is noise).</summary>
    public const double MinimumLevelCounts = 4;

    public bool Found => EdgeBin >= 0;

    public static DeadTimeEstimate Find(DetectorInterArrivalHistogram histogram)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        ReadOnlySpan<long> counts = histogram.Counts;
        int firstNonEmpty = -1;
        double level = 0;
        for (int k = 0; k < counts.Length; k++)
        {
            if (firstNonEmpty < 0 && counts[k] > 0) firstNonEmpty = k;
            long sum = counts[k] + (k > 0 ? counts[k - 1] : 0) + (k + 1 < counts.Length ? counts[k + 1] : 0);
            double average = sum / 3.0;
            if (average > level) level = average;
        }
        double firstGap = firstNonEmpty >= 0 ? histogram.MeanGapPs(firstNonEmpty) : double.NaN;
        if (level < MinimumLevelCounts) return new DeadTimeEstimate(double.NaN, -1, firstGap, level);
        // The edge bin and the next together reach half the level: a sparse histogram's edge bin may fall short of
        // it alone by chance, while a stray count below the edge has no such neighbour.
        for (int k = Math.Max(0, firstNonEmpty); k < counts.Length; k++)
            if (counts[k] > 0 && counts[k] + (k + 1 < counts.Length ? counts[k + 1] : 0) >= level / 2)
                return new DeadTimeEstimate(histogram.MeanGapPs(k), k, firstGap, level);
        return new DeadTimeEstimate(double.NaN, -1, firstGap, level);
    }
}
