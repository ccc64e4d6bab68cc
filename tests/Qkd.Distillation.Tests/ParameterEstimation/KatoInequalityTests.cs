using CsCheck;
using Qkd.Distillation.ParameterEstimation;

namespace Qkd.Distillation.Tests.ParameterEstimation;

public class KatoInequalityTests
{
    /// <summary>
    /// The minimiser Currás-Lorenzo et al., npj Quantum Inf. 7, 22 (2021), Methods, print for the upper bound with a
    /// prediction x of Lambda over n trials (written out here from the paper, independently of the code's derivation):
    /// a = 3 [72 sqrt(n) x (n-x) ln e - 16 n^(3/2) ln^2 e + 9 sqrt(2) (n - 2x) sqrt(-n^2 ln e (9 x (n-x) - 2 n ln e))]
    ///     / [4 (9n - 8 ln e)(9 x (n-x) - 2 n ln e)],
    /// b = sqrt(18 a^2 n - (16 a^2 + 24 a sqrt(n) + 9 n) ln e) / (3 sqrt(2n)).
    /// </summary>
    private static (double A, double B) PaperCoefficients(double n, double x, double epsilon)
    {
        double l = Math.Log(epsilon), s = Math.Sqrt(n), spread = 9 * x * (n - x) - 2 * n * l;
        double a = 3 * (72 * s * x * (n - x) * l - 16 * n * s * l * l + 9 * Math.Sqrt(2) * (n - 2 * x) * Math.Sqrt(-n * n * l * spread))
                   / (4 * (9 * n - 8 * l) * spread);
        double b = Math.Sqrt(18 * a * a * n - (16 * a * a + 24 * a * s + 9 * n) * l) / (3 * Math.Sqrt(2 * n));
        return (a, b);
    }

    [Theory]
    [InlineData(1e3, 20, 1e-3)]
    [InlineData(1e4, 5000, 1e-10)]
    [InlineData(8.4e6, 7.1e6, 4.8e-12)]
    [InlineData(8.4e6, 1.3e3, 4.8e-12)]
    [InlineData(5e5, 0, 1e-6)]
    [InlineData(5e5, 4.9e5, 1e-6)]
    public void The_closed_form_coefficients_are_the_papers_and_minimise_the_deviation(double n, double x, double epsilon)
    {
        var (a, b) = KatoInequality.Coefficients(n, x, epsilon);
        var (paperA, paperB) = PaperCoefficients(n, x, epsilon);
        Assert.Equal(paperA, a, Math.Max(1e-9 * Math.Abs(paperA), 1e-9));
        Assert.Equal(paperB, b, 1e-9 * paperB);
        // The failure probability is exactly epsilon, and no other a does better at Lambda = x (golden-section search).
        Assert.Equal(epsilon, KatoInequality.FailureProbability(n, a, b), epsilon * 1e-9);
        double Width(double candidate) => KatoInequality.Deviation(n, x, candidate, KatoInequality.SecondCoefficient(candidate, n, epsilon));
        double low = -0.75 * Math.Sqrt(n) + 1e-9, high = 0.75 * Math.Sqrt(n);
        for (int i = 0; i < 300; i++)
        {
            double m1 = low + (high - low) * 0.382, m2 = low + (high - low) * 0.618;
            if (Width(m1) < Width(m2)) high = m2; else low = m1;
        }
        Assert.True(Width(a) <= Width(0.5 * (low + high)) * (1 + 1e-9));
    }

    [Fact]
    public void Without_a_prediction_it_is_Azumas_inequality_with_Hoeffdings_width()
    {
        // a = 0: exp(-2 b^2), deviation b sqrt(n) = sqrt(n/2 ln(1/eps)), Lim et al.'s delta(n, eps).
        var (a, b) = KatoInequality.Coefficients(1e6, double.NaN, 1e-10);
        Assert.Equal(0, a);
        Assert.Equal(FiniteSizeStatistics.HoeffdingDeviation(1e6, 1e-10), KatoInequality.UpperMean(1000, 1e6, double.NaN, 1e-10) - 1000, 1e-6);
        Assert.Equal(1e-10, KatoInequality.FailureProbability(1e6, a, b), 1e-19);
    }

    /// <summary>ln Pr[Binomial(n, p) = k] by log-gamma sums (exact for the sizes used).</summary>
    private static double[] LogBinomialPmf(int n, double p)
    {
        var logFactorial = new double[n + 1];
        for (int i = 1; i <= n; i++) logFactorial[i] = logFactorial[i - 1] + Math.Log(i);
        var pmf = new double[n + 1];
        for (int k = 0; k <= n; k++)
            pmf[k] = logFactorial[n] - logFactorial[k] - logFactorial[n - k] + k * Math.Log(p) + (n - k) * Math.Log(1 - p);
        return pmf;
    }

    [Theory]
    [InlineData(0.01)]
    [InlineData(0.1)]
    [InlineData(0.5)]
    [InlineData(0.93)]
    public void Each_side_fails_with_at_most_epsilon_under_the_exact_binomial_law(double p)
    {
        // i.i.d. Bernoulli(p): the sum of conditional expectations is n p exactly. Sum the probability of every outcome
        // whose interval misses it, for a right prediction, a wrong one (half, or double capped) and none.
        const int n = 4000;
        const double epsilon = 1e-3;
        double mean = n * p;
        var logPmf = LogBinomialPmf(n, p);
        foreach (double predicted in new[] { mean, mean / 2, Math.Min(n, 2 * mean), double.NaN })
        {
            double missUpper = 0, missLower = 0;
            for (int k = 0; k <= n; k++)
            {
                if (KatoInequality.UpperMean(k, n, predicted, epsilon) < mean) missUpper += Math.Exp(logPmf[k]);
                if (KatoInequality.LowerMean(k, n, predicted, epsilon) > mean) missLower += Math.Exp(logPmf[k]);
            }
            Assert.True(missUpper <= epsilon, $"p {p}, prediction {predicted}: upper side fails with {missUpper:E3}");
            Assert.True(missLower <= epsilon, $"p {p}, prediction {predicted}: lower side fails with {missLower:E3}");
        }
    }

    [Fact]
    public void With_a_right_prediction_the_interval_is_never_wider_than_Hoeffdings_and_beats_Chernoff_on_large_classes()
    {
        Gen.Select(Gen.Long[1000, 1_000_000_000], Gen.Double[0, 1], Gen.Double[1e-15, 1e-3]).Sample((n, share, epsilon) =>
        {
            double x = Math.Round(n * share);
            double hoeffding = FiniteSizeStatistics.HoeffdingDeviation(n, epsilon);
            double upper = KatoInequality.UpperMean(x, n, x, epsilon), lower = KatoInequality.LowerMean(x, n, x, epsilon);
            Assert.True(upper - x <= hoeffding * (1 + 1e-12) + 1e-9);
            Assert.True(x - lower <= hoeffding * (1 + 1e-12) + 1e-9);
        });
        // A class of 80% of 1e7 detections at eps = 1e-10/21: Chernoff's width ignores the (1 - share) of the variance.
        double nB = 1e7, count = 8e6, eps = 1e-10 / 21;
        double kato = KatoInequality.UpperMean(count, nB, count, eps) - count;
        double chernoff = ChernoffBound.UpperMean(count, eps) - count;
        Assert.InRange(kato / chernoff, 0.4, 0.5); // about sqrt(0.2) = 0.45
    }

    [Fact]
    public void The_bounds_bracket_the_count_stay_in_range_and_grow_with_it()
    {
        Gen.Select(Gen.Long[100, 1_000_000_000], Gen.Double[0, 1], Gen.Double[0.001, 0.999], Gen.Double[1e-15, 1e-2]).Sample((n, share, predictedShare, epsilon) =>
        {
            double x = Math.Floor(n * share), predicted = n * predictedShare;
            double lower = KatoInequality.LowerMean(x, n, predicted, epsilon), upper = KatoInequality.UpperMean(x, n, predicted, epsilon);
            Assert.True(0 <= lower && lower <= x && x <= upper && upper <= n, $"[{lower}, {upper}] for {x} of {n}");
            double next = Math.Min(n, x + 1);
            Assert.True(KatoInequality.UpperMean(next, n, predicted, epsilon) >= upper);
            Assert.True(KatoInequality.LowerMean(next, n, predicted, epsilon) >= lower);
            // A smaller failure probability never narrows the interval.
            Assert.True(KatoInequality.UpperMean(x, n, predicted, epsilon / 10) >= upper);
            Assert.True(KatoInequality.LowerMean(x, n, predicted, epsilon / 10) <= lower);
        });
    }

    [Fact]
    public void Bad_inputs_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => KatoInequality.UpperMean(11, 10, 5, 1e-9));
        Assert.Throws<ArgumentOutOfRangeException>(() => KatoInequality.LowerMean(-1, 10, 5, 1e-9));
        Assert.Throws<ArgumentOutOfRangeException>(() => KatoInequality.UpperMean(5, 10, 5, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => KatoInequality.UpperMean(5, double.NaN, 5, 0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => KatoInequality.Coefficients(0, 0, 0.1));
        Assert.Equal(0, KatoInequality.UpperMean(0, 0, double.NaN, 1e-9));
    }
}
