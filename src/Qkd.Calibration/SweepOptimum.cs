namespace Qkd.Calibration;

/// <summary>
/// The chosen step of a one-dimensional sweep (a gate delay, a phase setting) and how clearly it stands out. Steps
/// are given in sweep order.
/// </summary>
public static class SweepOptimum
{
    /// <summary>
    /// The step with the most counts; among equal counts, the middle one: a gate wider than the light gives a plateau
    /// of equal counts, and its middle is the setting with the most margin either side.
    /// </summary>
    public static int MostCounts(ReadOnlySpan<long> counts)
    {
        if (counts.Length == 0) throw new ArgumentException("The sweep has no steps.", nameof(counts));
        long best = long.MinValue;
        int ties = 0;
        foreach (long c in counts)
        {
            if (c > best) { best = c; ties = 1; }
            else if (c == best) ties++;
        }
        int wanted = ties / 2;
        for (int i = 0; i < counts.Length; i++)
            if (counts[i] == best && wanted-- == 0) return i;
        throw new InvalidOperationException("Unreachable: the maximum occurs in the sweep.");
    }

    /// <summary>
    /// The step with the lowest value (a QBER); among equal values, the first. Steps without a value (NaN: nothing
    /// was sifted there) cannot be the optimum.
    /// </summary>
    /// <returns>The step's index, or -1 when no step has a value.</returns>
    public static int Lowest(ReadOnlySpan<double> values)
    {
        int best = -1;
        for (int i = 0; i < values.Length; i++)
            if (!double.IsNaN(values[i]) && (best < 0 || values[i] < values[best])) best = i;
        return best;
    }

    /// <summary>
    /// The most counts over the mean of the sweep's two ends: how clearly the sweep found its optimum above the
    /// background (ends far off the light count only dark counts). Positive infinity when the ends counted nothing.
    /// </summary>
    public static double Contrast(ReadOnlySpan<long> counts)
    {
        if (counts.Length == 0) throw new ArgumentException("The sweep has no steps.", nameof(counts));
        long max = long.MinValue;
        foreach (long c in counts) max = Math.Max(max, c);
        double ends = (counts[0] + counts[^1]) / 2.0;
        return ends > 0 ? max / ends : double.PositiveInfinity;
    }
}
