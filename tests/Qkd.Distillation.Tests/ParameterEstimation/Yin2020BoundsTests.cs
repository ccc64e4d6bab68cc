using CsCheck;
using Qkd.Distillation.ParameterEstimation;

namespace Qkd.Distillation.Tests.ParameterEstimation;

/// <summary>
/// The two bounds of Yin, Zhou, Gu, Xie, Lu, Chen, Sci. Rep. 10, 14312 (2020) (<see cref="Yin2020Bounds"/>): the
/// paper's formulas evaluated by hand, checked against exact tails, and their properties (CsCheck).
/// </summary>
public class Yin2020BoundsTests
{
    private const double Epsilon = 1e-10 / 21;

    /// <summary>ln k! for k up to <paramref name="max"/>, summed (exact enough for these sizes).</summary>
    private static double[] LogFactorials(int max)
    {
        var table = new double[max + 1];
        for (int i = 1; i <= max; i++) table[i] = table[i - 1] + Math.Log(i);
        return table;
    }

    [Fact]
    public void The_count_bounds_are_the_roots_of_the_two_Chernoff_tails()
    {
        // The paper's starting point: Pr[X >= E + d] <= exp(-d^2/(2E + d)), Pr[X <= E - d] <= exp(-d^2/(2E)). At the
        // returned means each tail is exactly eps for the observed count.
        foreach (double x in new[] { 1.0, 37.0, 1_300.0, 2.4e5, 7.1e6 })
        {
            double beta = Math.Log(1 / Epsilon);
            double lower = Yin2020Bounds.LowerMean(x, Epsilon), upper = Yin2020Bounds.UpperMean(x, Epsilon);
            double dl = x - lower, du = upper - x;
            if (lower > 0) Assert.Equal(beta, dl * dl / (2 * lower + dl), 1e-9 * beta);
            Assert.Equal(beta, du * du / (2 * upper), 1e-9 * beta);
        }
        // By hand at x = 10,000, eps = 1e-10/21: beta = 26.0704, E^U = x + beta + sqrt(2 beta x + beta^2).
        double b = Math.Log(21e10);
        Assert.Equal(10_000 + b + Math.Sqrt(2 * b * 10_000 + b * b), Yin2020Bounds.UpperMean(10_000, Epsilon), 1e-9);
        Assert.Equal(10_000 + b / 2 - Math.Sqrt(2 * b * 10_000 + b * b / 4), Yin2020Bounds.LowerMean(10_000, Epsilon), 1e-9);
        Assert.InRange(Yin2020Bounds.UpperMean(10_000, Epsilon), 10_748.5, 10_748.8);
        Assert.InRange(Yin2020Bounds.LowerMean(10_000, Epsilon), 9_290.7, 9_291.0);
    }

    [Fact]
    public void The_count_interval_holds_under_the_exact_Poisson_tail_and_is_a_little_wider_than_the_exact_Chernoff_roots()
    {
        // Poisson is the extreme case of a sum of independent Bernoulli variables for these bounds.
        var logFactorial = LogFactorials(40_000);
        double LogPoisson(double mean, int k) => -mean + k * Math.Log(mean) - logFactorial[k];
        foreach (int x in new[] { 0, 4, 90, 2_000 })
        {
            const double epsilon = 1e-6;
            double upper = Yin2020Bounds.UpperMean(x, epsilon), lower = Yin2020Bounds.LowerMean(x, epsilon);
            double below = 0, above = 0;
            for (int k = 0; k <= x; k++) below += Math.Exp(LogPoisson(upper, k));
            if (lower > 0) for (int k = x; k < 40_000; k++) above += Math.Exp(LogPoisson(lower, k));
            Assert.True(below <= epsilon, $"x {x}: Pr[X <= x | E^U] = {below:E3}");
            Assert.True(above <= epsilon, $"x {x}: Pr[X >= x | E^L] = {above:E3}");
            Assert.True(upper >= ChernoffBound.UpperMean(x, epsilon) && lower <= ChernoffBound.LowerMean(x, epsilon));
        }
    }

    [Fact]
    public void Gamma_U_is_the_papers_formula_and_about_seven_tenths_of_Lims_gamma_at_block_sizes()
    {
        // By hand, n = 2e5 test events, k = 3e6 key events, lambda = 2.5%: A = 3e6,
        // G = (n+k)/(nk) ln((n+k)/(2 pi n k lambda(1-lambda) eps^2)).
        double n = 2e5, k = 3e6, lambda = 0.025;
        double g = (n + k) / (n * k) * Math.Log((n + k) / (2 * Math.PI * n * k * lambda * (1 - lambda) * Epsilon * Epsilon));
        double a = 3e6, s = n + k;
        double expected = ((1 - 2 * lambda) * a * g / s + Math.Sqrt(a * a * g * g / (s * s) + 4 * lambda * (1 - lambda) * g)) / (2 + 2 * a * a * g / (s * s));
        double gamma = Yin2020Bounds.SamplingDeviation(Epsilon, lambda, keyEvents: k, testEvents: n);
        Assert.Equal(expected, gamma, 1e-15);
        Assert.Equal(gamma, Yin2020Bounds.SamplingDeviation(Epsilon, lambda, keyEvents: n, testEvents: k), 1e-15); // symmetric
        double lim = FiniteSizeStatistics.SamplingDeviation(1e-10, lambda, k, n);
        Assert.InRange(gamma / lim, 0.65, 0.8);
    }

    /// <summary>
    /// Exact check of gamma^U for sampling without replacement: n + k bits hold M errors, the n test bits are a uniformly
    /// random subset (hypergeometric), and the bound fails when the k key bits' error rate exceeds the test rate plus gamma.
    /// For each M in the range QKD cares about (1-12 %) the failure probability is summed over the test outcomes.
    /// What this found: gamma^U, a Stirling-sharp approximation of the hypergeometric tail, is not a strict bound at these
    /// small sizes; its worst case over M is 2.2 eps (n = k = 2,000, eps = 1e-6, at a total error rate near 12 %), while
    /// Lim et al.'s gamma (every other analysis here) fails with up to 6.9 eps at the same sizes and 270 eps at
    /// n = 1,000, k = 4,000 (near a 1 % error rate, where its formula degenerates). The assertion records that bound, so a
    /// change that made it worse shows.
    /// </summary>
    [Theory]
    [InlineData(2_000, 2_000, 1e-6, 2.5)]
    [InlineData(1_000, 4_000, 1e-6, 1.0)]
    [InlineData(4_000, 1_000, 1e-6, 1.0)]
    public void Gamma_U_against_the_exact_hypergeometric_tail(int n, int k, double epsilon, double allowedRatio)
    {
        int total = n + k;
        var logFactorial = LogFactorials(total);
        double LogChoose(int a, int b) => logFactorial[a] - logFactorial[b] - logFactorial[a - b];
        double worst = 0;
        for (int m = (int)(0.01 * total); m <= (int)(0.12 * total); m++)
        {
            double failure = 0;
            for (int t = Math.Max(1, m - k); t <= Math.Min(n, m); t++)
            {
                double lambda = (double)t / n, keyRate = (double)(m - t) / k;
                if (lambda >= 0.5) continue;
                if (keyRate > lambda + Yin2020Bounds.SamplingDeviation(epsilon, lambda, k, n))
                    failure += Math.Exp(LogChoose(n, t) + LogChoose(k, m - t) - LogChoose(total, m));
            }
            worst = Math.Max(worst, failure);
        }
        Assert.True(worst <= allowedRatio * epsilon, $"worst failure {worst / epsilon:F2} eps");
    }

    [Fact]
    public void Gamma_U_is_finite_non_negative_and_shrinks_with_more_events()
    {
        Gen.Select(Gen.Double[10, 1e9], Gen.Double[10, 1e9], Gen.Double[0, 0.5], Gen.Double[1e-20, 1e-3]).Sample((n, k, lambda, epsilon) =>
        {
            double gamma = Yin2020Bounds.SamplingDeviation(epsilon, lambda, k, n);
            Assert.True(double.IsFinite(gamma) && gamma >= 0, $"gamma {gamma} for n {n}, k {k}, lambda {lambda}");
            Assert.True(Yin2020Bounds.SamplingDeviation(epsilon, lambda, 2 * k, 2 * n) <= gamma * (1 + 1e-12));
            Assert.True(Yin2020Bounds.SamplingDeviation(epsilon / 10, lambda, k, n) >= gamma * (1 - 1e-12));
        });
    }

    [Fact]
    public void The_count_bounds_bracket_the_count_stay_non_negative_and_grow_with_it()
    {
        Gen.Select(Gen.Long[0, 10_000_000_000], Gen.Double[1e-20, 1e-2]).Sample((count, epsilon) =>
        {
            double lower = Yin2020Bounds.LowerMean(count, epsilon), upper = Yin2020Bounds.UpperMean(count, epsilon);
            Assert.True(double.IsFinite(lower) && double.IsFinite(upper));
            Assert.True(0 <= lower && lower <= count && count <= upper);
            Assert.True(Yin2020Bounds.LowerMean(count + 1, epsilon) >= lower);
            Assert.True(Yin2020Bounds.UpperMean(count + 1, epsilon) >= upper);
        });
    }

    [Fact]
    public void Bad_inputs_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Yin2020Bounds.UpperMean(-1, 1e-9));
        Assert.Throws<ArgumentOutOfRangeException>(() => Yin2020Bounds.LowerMean(double.NaN, 1e-9));
        Assert.Throws<ArgumentOutOfRangeException>(() => Yin2020Bounds.LowerMean(5, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Yin2020Bounds.SamplingDeviation(1e-9, 0.5 + 0.6, 10, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => Yin2020Bounds.SamplingDeviation(1e-9, 0.02, 0, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => Yin2020Bounds.SamplingDeviation(0, 0.02, 10, 10));
    }
}
