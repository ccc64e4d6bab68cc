namespace Qkd.Distillation.ParameterEstimation;

/// <summary>
/// The multiplicative Chernoff bound inverted for an observed count, as Zhang, Zhao, Razavi, Ma, PRA 95, 012333 (2017)
/// use it for decoy-state estimation: for X a sum of independent Bernoulli variables with mean E and any x,
/// <code>
/// Pr[X &gt;= x] &lt;= exp(-D(x || E))  for x &gt;= E,     Pr[X &lt;= x] &lt;= exp(-D(x || E))  for x &lt;= E,
/// D(x || E) = x ln(x / E) - x + E      (the relative entropy of Poisson laws; D(0 || E) = E)
/// </code>
/// which is the familiar (e^delta / (1 + delta)^(1 + delta))^E form with x = (1 + delta) E (Zhang et al. write the
/// bounds on E as chi / (1 + delta_1) and chi / (1 - delta_2) with exactly these exponents). Given the observed count
/// chi, every mean E with D(chi || E) &gt; ln(1/epsilon) on either side is excluded with failure probability at most
/// epsilon per side, so E lies in [<see cref="LowerMean"/>, <see cref="UpperMean"/>], the two roots of
/// D(chi || E) = ln(1/epsilon). Unlike Hoeffding's additive sqrt(n/2 ln(1/epsilon)) over all n detections of a basis, the
/// width scales with sqrt(chi): a class of 1,000 detections among 10^7 gets an interval of about +-230, not +-10^4.
/// Both roots are found by bisection to a relative precision of 1e-12 in at most 200 steps: O(1) time and memory.
/// </summary>
public static class ChernoffBound
{
    /// <summary>The smallest mean E &lt;= chi not excluded: D(chi || E) = ln(1/epsilon) (0 when chi = 0).</summary>
    public static double LowerMean(double observed, double epsilon)
    {
        double beta = Beta(observed, epsilon);
        if (observed == 0) return 0;
        // f(E) = D(chi || E) - beta decreases on (0, chi] from +inf to -beta.
        double low = 0, high = observed;
        for (int i = 0; i < 200 && high - low > 1e-12 * Math.Max(1, high); i++)
        {
            double mid = 0.5 * (low + high);
            if (Divergence(observed, mid) > beta) low = mid; else high = mid;
        }
        return low; // the side that is still excluded-or-equal: conservative
    }

    /// <summary>The largest mean E &gt;= chi not excluded: D(chi || E) = ln(1/epsilon) (ln(1/epsilon) when chi = 0).</summary>
    public static double UpperMean(double observed, double epsilon)
    {
        double beta = Beta(observed, epsilon);
        if (observed == 0) return beta;
        // f(E) increases on [chi, inf) from -beta; chi + beta + sqrt(2 beta chi + beta^2) is past the root
        // (D(chi || E) >= (E - chi)^2 / (2E) there, which is >= beta).
        double low = observed, high = observed + beta + Math.Sqrt(2 * beta * observed + beta * beta) + 1;
        for (int i = 0; i < 200 && high - low > 1e-12 * Math.Max(1, high); i++)
        {
            double mid = 0.5 * (low + high);
            if (Divergence(observed, mid) > beta) high = mid; else low = mid;
        }
        return high;
    }

    /// <summary>D(x || E) = x ln(x/E) - x + E, with D(0 || E) = E.</summary>
    public static double Divergence(double observed, double mean) =>
        observed == 0 ? mean : observed * Math.Log(observed / mean) - observed + mean;

    private static double Beta(double observed, double epsilon)
    {
        if (!(observed >= 0) || !double.IsFinite(observed))
            throw new ArgumentOutOfRangeException(nameof(observed), observed, "An observed count must be finite and non-negative.");
        if (!(epsilon > 0 && epsilon < 1))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must lie in (0, 1).");
        return Math.Log(1 / epsilon);
    }
}
