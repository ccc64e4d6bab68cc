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
    /// How many standard deviations the optimum must stand out by before a sweep of <paramref name="steps"/> steps may
    /// report it: 3 + 2 sqrt(ln N). A flat curve of N steps of pure noise spreads, best to worst, over about
    /// 2 sqrt(2 ln N) standard deviations of one step, which is 2 sqrt(ln N) standard deviations of the difference of
    /// two steps; three more make a noise optimum improbable (about 1e-3) whatever the sweep's length.
    /// </summary>
    public static double RequiredSigmas(int steps) => 3 + 2 * Math.Sqrt(Math.Log(Math.Max(2, steps)));

    /// <summary>
    /// How clearly the step with the most counts stands out: (most - fewest) / sqrt(most + fewest), the difference of
    /// the best and the weakest step in standard deviations of that difference (Poisson counts). 0 when nothing was
    /// counted. A sweep that found the light (a gate on and off the light) gives tens of sigmas; a flat one a few.
    /// </summary>
    public static SweepSignificance MostCountsSignificance(ReadOnlySpan<long> counts)
    {
        int best = MostCounts(counts);
        long min = long.MaxValue;
        foreach (long c in counts) min = Math.Min(min, c);
        long max = counts[best];
        double sigmas = max + min > 0 ? (max - min) / Math.Sqrt((double)max + min) : 0;
        return new SweepSignificance(best, sigmas, RequiredSigmas(counts.Length));
    }

    /// <summary>
    /// How clearly the lowest value stands out: (worst - lowest) / sqrt(u_worst^2 + u_lowest^2), with u each step's
    /// standard uncertainty. Steps without a value (NaN) take no part.
    /// </summary>
    /// <returns>Best -1 and 0 sigmas when no step has a value.</returns>
    public static SweepSignificance LowestSignificance(ReadOnlySpan<double> values, ReadOnlySpan<double> uncertainties)
    {
        if (uncertainties.Length != values.Length) throw new ArgumentException("One uncertainty per value is needed.", nameof(uncertainties));
        int best = Lowest(values);
        double required = RequiredSigmas(values.Length);
        if (best < 0) return new SweepSignificance(-1, 0, required);
        int worst = best;
        for (int i = 0; i < values.Length; i++)
            if (!double.IsNaN(values[i]) && values[i] > values[worst]) worst = i;
        double spread = Math.Sqrt(uncertainties[worst] * uncertainties[worst] + uncertainties[best] * uncertainties[best]);
        double sigmas = worst == best || !(spread > 0) ? 0 : (values[worst] - values[best]) / spread;
        return new SweepSignificance(best, double.IsFinite(sigmas) ? sigmas : 0, required);
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
