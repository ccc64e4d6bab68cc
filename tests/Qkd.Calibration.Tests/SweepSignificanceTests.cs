using CsCheck;

namespace Qkd.Calibration.Tests;

/// <summary>
/// A sweep reports an optimum only when it stands out of the noise: a flat curve (Poisson counts of one mean, QBERs of
/// one value) never does, a real peak or dip does, and a thin one says by how much the data must grow.
/// </summary>
public sealed class SweepSignificanceTests
{
    [Fact]
    public void A_flat_poisson_curve_has_no_significant_optimum_whatever_its_length()
    {
        // Counts of pure noise around one mean: the contrast of its best step over its ends can exceed 1 by chance
        // (the "contrast 1.0 on noise"), but not the significance.
        Gen.Select(Gen.Int[2, 400], Gen.Double[5, 50_000], Gen.Int).Sample((steps, mean, seed) =>
        {
            var random = new Random(seed);
            long[] counts = Enumerable.Range(0, steps).Select(_ => Poisson(random, mean)).ToArray();
            return !SweepOptimum.MostCountsSignificance(counts).IsSignificant;
        }, iter: 300);
    }

    [Fact]
    public void A_gate_on_the_light_stands_out_by_many_sigmas()
    {
        var s = SweepOptimum.MostCountsSignificance([100, 110, 2_000, 5_000, 1_900, 95]);
        Assert.True(s.IsSignificant);
        Assert.Equal(3, s.Best);
        Assert.Equal((5_000 - 95) / Math.Sqrt(5_095), s.Sigmas, 9);
        Assert.Equal(1, s.DataFactorNeeded);
    }

    [Fact]
    public void Nothing_counted_is_not_an_optimum_and_no_amount_of_the_same_data_helps()
    {
        var s = SweepOptimum.MostCountsSignificance([0, 0, 0]);
        Assert.False(s.IsSignificant);
        Assert.Equal(0, s.Sigmas);
        Assert.Equal(double.PositiveInfinity, s.DataFactorNeeded);
    }

    [Fact]
    public void A_thin_peak_says_how_much_more_data_would_show_it()
    {
        // 12 against 4 counts: 2 sigma; 9 steps need 3 + 2 sqrt(ln 9) = 5.96 sigma, about (5.96 / 2)^2 = 8.9 times the data.
        var s = SweepOptimum.MostCountsSignificance([4, 5, 12, 6, 4, 5, 4, 6, 5]);
        Assert.False(s.IsSignificant);
        Assert.Equal(2, s.Sigmas, 9);
        Assert.Equal(3 + 2 * Math.Sqrt(Math.Log(9)), s.RequiredSigmas, 12);
        Assert.Equal(Math.Pow(s.RequiredSigmas / 2, 2), s.DataFactorNeeded, 9);
    }

    [Fact]
    public void The_lowest_qber_is_significant_only_beyond_the_uncertainties_and_never_a_nan_step()
    {
        double u = QberTally.Uncertainty(10, 1_000);
        var dip = SweepOptimum.LowestSignificance([double.NaN, 0.30, 0.01, 0.25], [double.NaN, 0.014, u, 0.014]);
        Assert.Equal(2, dip.Best);
        Assert.True(dip.IsSignificant, $"{dip.Sigmas} sigma");

        var flat = SweepOptimum.LowestSignificance([0.020, 0.021, 0.019, 0.020], [0.004, 0.004, 0.004, 0.004]);
        Assert.False(flat.IsSignificant);

        var none = SweepOptimum.LowestSignificance([double.NaN, double.NaN], [double.NaN, double.NaN]);
        Assert.Equal(-1, none.Best);
        Assert.False(none.IsSignificant);
        Assert.Throws<ArgumentException>(() => SweepOptimum.LowestSignificance([0.1], []));
    }

    [Fact]
    public void The_qber_uncertainty_is_the_beta_posterior_deviation_never_zero()
    {
        Assert.True(double.IsNaN(QberTally.Uncertainty(0, 0)));
        // No error in 100 bits: Beta(1, 101), sd = sqrt(101 / (102^2 * 103)) ~ 0.97 %.
        Assert.Equal(Math.Sqrt(101.0 / (102.0 * 102 * 103)), QberTally.Uncertainty(0, 100), 12);
        // Many bits: the binomial sqrt(q (1 - q) / n).
        Assert.Equal(Math.Sqrt(0.1 * 0.9 / 1e6), QberTally.Uncertainty(100_000, 1_000_000), 7);
    }

    private static long Poisson(Random random, double mean)
    {
        if (mean > 30) return Math.Max(0, (long)Math.Round(mean + Math.Sqrt(mean) * Normal(random)));
        double limit = Math.Exp(-mean), product = random.NextDouble();
        long k = 0;
        while (product > limit) { product *= random.NextDouble(); k++; }
        return k;
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
