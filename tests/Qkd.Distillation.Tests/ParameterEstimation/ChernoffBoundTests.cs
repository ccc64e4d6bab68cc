using CsCheck;
using Qkd.Distillation.ParameterEstimation;

namespace Qkd.Distillation.Tests.ParameterEstimation;

public class ChernoffBoundTests
{
    /// <summary>ln Pr[Poisson(mean) &lt;= x] or ln Pr[Poisson(mean) &gt;= x], summed in log space (exact, independent of the bound).</summary>
    private static double LogPoissonTail(double mean, long x, bool lower)
    {
        double LogPmf(long k) => -mean + k * Math.Log(mean) - LogFactorial(k);
        double max = double.NegativeInfinity, sum = 0;
        var terms = new List<double>();
        if (lower) for (long k = 0; k <= x; k++) terms.Add(LogPmf(k));
        else for (long k = x; k <= x + 20 * (long)Math.Sqrt(mean + x) + 200; k++) terms.Add(LogPmf(k));
        foreach (double t in terms) max = Math.Max(max, t);
        foreach (double t in terms) sum += Math.Exp(t - max);
        return max + Math.Log(sum);
    }

    private static double LogFactorial(long k)
    {
        double s = 0;
        for (long i = 2; i <= k; i++) s += Math.Log(i);
        return s;
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(3L)]
    [InlineData(40L)]
    [InlineData(1_000L)]
    public void The_interval_ends_are_where_the_exact_Poisson_tail_is_at_most_epsilon(long observed)
    {
        // The Poisson law is the extreme case of a sum of independent Bernoulli variables for the Chernoff bound.
        double epsilon = 1e-6;
        double upper = ChernoffBound.UpperMean(observed, epsilon);
        Assert.True(LogPoissonTail(upper, observed, lower: true) <= Math.Log(epsilon));
        if (observed > 0)
        {
            double lower = ChernoffBound.LowerMean(observed, epsilon);
            Assert.True(LogPoissonTail(lower, observed, lower: false) <= Math.Log(epsilon));
        }
        else Assert.Equal(0, ChernoffBound.LowerMean(0, epsilon));
    }

    [Fact]
    public void The_interval_brackets_the_count_grows_with_it_and_is_narrower_than_Hoeffding_for_a_small_class()
    {
        Gen.Select(Gen.Long[0, 100_000_000], Gen.Double[1e-20, 1e-2]).Sample((count, epsilon) =>
        {
            double lower = ChernoffBound.LowerMean(count, epsilon), upper = ChernoffBound.UpperMean(count, epsilon);
            Assert.InRange(count, lower, upper);
            Assert.True(ChernoffBound.LowerMean(count + 1, epsilon) >= lower);
            Assert.True(ChernoffBound.UpperMean(count + 1, epsilon) >= upper);
            // A class of at most 1% of a basis of 100 times its size: Hoeffding's width is set by the basis.
            double hoeffding = FiniteSizeStatistics.HoeffdingDeviation(100.0 * Math.Max(count, 1000), epsilon);
            Assert.True(upper - count <= hoeffding);
        });
    }

    [Fact]
    public void The_true_mean_lies_in_the_interval_for_sampled_counts()
    {
        // 2,000 Poisson draws at epsilon = 1e-3 per side: a miss would have probability about 4 (2,000 x 2e-3).
        var random = new Random(14);
        int misses = 0;
        foreach (double mean in new[] { 5.0, 300.0, 20_000.0 })
            for (int i = 0; i < 2000; i++)
            {
                long x = SamplePoisson(random, mean);
                if (ChernoffBound.LowerMean(x, 1e-3) > mean || ChernoffBound.UpperMean(x, 1e-3) < mean) misses++;
            }
        Assert.True(misses <= 30, $"{misses} of 6,000 intervals missed the true mean");
    }

    private static long SamplePoisson(Random random, double mean)
    {
        if (mean > 1000) return (long)Math.Round(mean + Math.Sqrt(mean) * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        double limit = Math.Exp(-mean), product = random.NextDouble();
        long k = 0;
        while (product > limit) { k++; product *= random.NextDouble(); }
        return k;
    }

    [Fact]
    public void Bad_inputs_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ChernoffBound.UpperMean(-1, 1e-9));
        Assert.Throws<ArgumentOutOfRangeException>(() => ChernoffBound.LowerMean(5, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ChernoffBound.LowerMean(double.NaN, 0.1));
    }
}
