namespace Qkd.Distillation.ParameterEstimation;

/// <summary>
/// The two closed-form statistical bounds of Yin, Zhou, Gu, Xie, Lu, Chen, "Tight security bounds for decoy-state quantum
/// key distribution", Sci. Rep. 10, 14312 (2020), arXiv:2002.06530.
/// <para>
/// <b>Expected value from an observed count</b> (<see cref="LowerMean"/>, <see cref="UpperMean"/>). For X a sum of
/// independent Bernoulli variables with mean E the multiplicative Chernoff tails are
/// <code>
/// Pr[X &gt;= E + d] &lt;= exp(-d^2 / (2E + d)),      Pr[X &lt;= E - d] &lt;= exp(-d^2 / (2E)).
/// </code>
/// Given the observed x and beta = ln(1/eps), the means not excluded on each side are the roots of (x - E)^2 = beta (x + E)
/// and (E - x)^2 = 2 beta E, in closed form:
/// <code>
/// E^L = x + beta/2 - sqrt(2 beta x + beta^2/4),     E^U = x + beta + sqrt(2 beta x + beta^2).
/// </code>
/// These are looser than the exact relative-entropy roots of <see cref="ChernoffBound"/> (the tails above are lower bounds on
/// D(x || E)), by less than one count at the sizes of a block; what they buy is no root search.
/// </para>
/// <para>
/// <b>Phase error from the test error rate</b> (<see cref="SamplingDeviation"/>): when n test bits and k key bits are a
/// random split of n + k bits and the test shows error rate lambda, the key's error rate exceeds lambda + gamma^U with
/// probability at most eps, where
/// <code>
/// gamma^U(n, k, lambda, eps) = [ (1 - 2 lambda) A G / (n + k) + sqrt( A^2 G^2 / (n + k)^2 + 4 lambda (1 - lambda) G ) ]
///                              / ( 2 + 2 A^2 G / (n + k)^2 ),
/// A = max(n, k),   G = (n + k) / (n k) ln( (n + k) / (2 pi n k lambda (1 - lambda) eps^2) ).
/// </code>
/// It comes from a Stirling-sharp bound on the hypergeometric tail, where Lim et al.'s gamma (Eq. 5) carries the looser
/// 1/ln 2 factor of a log2 bound: about 0.7 of Lim's width at the sizes of a block. Like Lim's it is undefined at lambda = 0;
/// there the Serfling bound stands in (<see cref="FiniteSizeStatistics.SamplingDeviation"/>), at the same failure probability.
/// </para>
/// The paper's text could not be read from where this was written: the count bounds are derived above from the two tails
/// the paper starts from, and gamma^U is the paper's formula as it is quoted by later work of the same group. The tests
/// check the count bounds against exact Poisson tails and gamma^U against exact hypergeometric tails (see
/// Yin2020BoundsTests for what that found). All O(1).
/// </summary>
public static class Yin2020Bounds
{
    /// <summary>E^L = x + beta/2 - sqrt(2 beta x + beta^2/4), beta = ln(1/eps): never below 0 (0 when x = 0).</summary>
    public static double LowerMean(double observed, double epsilon)
    {
        double beta = Beta(observed, epsilon);
        return Math.Max(0, observed + beta / 2 - Math.Sqrt(2 * beta * observed + beta * beta / 4));
    }

    /// <summary>E^U = x + beta + sqrt(2 beta x + beta^2), beta = ln(1/eps) (2 ln(1/eps) when x = 0).</summary>
    public static double UpperMean(double observed, double epsilon)
    {
        double beta = Beta(observed, epsilon);
        return observed + beta + Math.Sqrt(2 * beta * observed + beta * beta);
    }

    /// <summary>
    /// gamma^U(n, k, lambda, eps) at failure probability <paramref name="epsilon"/> (this is a share of epsilon_sec, not
    /// epsilon_sec itself), with n = <paramref name="testEvents"/>, k = <paramref name="keyEvents"/> (the formula is symmetric
    /// in them) and lambda = <paramref name="observedRate"/> in [0, 1). 0 where G &lt;= 0 (the sample size alone rules out a
    /// deviation, as in <see cref="FiniteSizeStatistics.SamplingDeviation"/>).
    /// </summary>
    public static double SamplingDeviation(double epsilon, double observedRate, double keyEvents, double testEvents)
    {
        if (!(epsilon > 0 && epsilon < 1))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must lie in (0, 1).");
        if (!(observedRate >= 0 && observedRate < 1))
            throw new ArgumentOutOfRangeException(nameof(observedRate), observedRate, "The observed error rate must lie in [0, 1).");
        if (!(keyEvents > 0) || !(testEvents > 0) || !double.IsFinite(keyEvents) || !double.IsFinite(testEvents))
            throw new ArgumentOutOfRangeException(nameof(keyEvents), $"Both event counts must be positive and finite, got {keyEvents} and {testEvents}.");
        double lambda = observedRate, n = testEvents, k = keyEvents, total = n + k;
        if (lambda == 0) // undefined there: Serfling, at the same failure probability (split 1: epsilon is already the share)
            return FiniteSizeStatistics.SamplingDeviation(epsilon, 0, keyEvents, testEvents, secrecySplit: 1);
        double variance = lambda * (1 - lambda);
        double g = total / (n * k) * Math.Log(total / (2 * Math.PI * n * k * variance * epsilon * epsilon));
        if (!(g > 0)) return 0;
        double a = Math.Max(n, k), ag = a * g / total;
        return ((1 - 2 * lambda) * ag + Math.Sqrt(ag * ag + 4 * variance * g)) / (2 + 2 * a * ag / total);
    }

    private static double Beta(double observed, double epsilon)
    {
        if (!(observed >= 0) || !double.IsFinite(observed))
            throw new ArgumentOutOfRangeException(nameof(observed), observed, "An observed count must be finite and non-negative.");
        if (!(epsilon > 0 && epsilon < 1))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must lie in (0, 1).");
        return Math.Log(1 / epsilon);
    }
}
