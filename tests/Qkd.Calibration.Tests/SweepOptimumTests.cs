using CsCheck;

namespace Qkd.Calibration.Tests;

public sealed class SweepOptimumTests
{
    [Theory]
    [InlineData(new long[] { 1, 5, 5, 5, 2 }, 2)]
    [InlineData(new long[] { 5, 1, 5 }, 2)]
    [InlineData(new long[] { 0, 9, 3, 9, 9, 9 }, 4)]
    [InlineData(new long[] { 7 }, 0)]
    public void The_gate_optimum_is_the_middle_of_the_steps_with_the_most_counts(long[] counts, int expected) =>
        Assert.Equal(expected, SweepOptimum.MostCounts(counts));

    [Fact]
    public void The_most_counts_step_holds_the_maximum_and_is_the_middle_of_its_ties()
    {
        Gen.Long[0, 4].Array[1, 30].Sample(counts =>
        {
            int i = SweepOptimum.MostCounts(counts);
            var top = Enumerable.Range(0, counts.Length).Where(k => counts[k] == counts.Max()).ToList();
            return i == top[top.Count / 2];
        });
    }

    [Fact]
    public void The_lowest_qber_is_the_first_among_equals_and_steps_without_a_qber_are_skipped()
    {
        Assert.Equal(1, SweepOptimum.Lowest([0.3, 0.1, 0.2, 0.1]));
        Assert.Equal(2, SweepOptimum.Lowest([double.NaN, 0.5, 0.2, double.NaN]));
        Assert.Equal(-1, SweepOptimum.Lowest([double.NaN, double.NaN]));
        Assert.Equal(-1, SweepOptimum.Lowest([]));
    }

    [Fact]
    public void The_lowest_step_is_a_finite_minimum()
    {
        Gen.Double[0, 0.5].Select(Gen.Bool, (q, missing) => missing ? double.NaN : q).Array[1, 30].Sample(values =>
        {
            int i = SweepOptimum.Lowest(values);
            var finite = values.Where(double.IsFinite).ToList();
            if (finite.Count == 0) return i == -1;
            return values[i] == finite.Min() && Array.IndexOf(values, finite.Min()) == i;
        });
    }

    [Fact]
    public void Contrast_is_the_peak_over_the_mean_of_the_ends()
    {
        Assert.Equal(10 / 3.0, SweepOptimum.Contrast([2, 10, 4]), 12);
        Assert.Equal(double.PositiveInfinity, SweepOptimum.Contrast([0, 10, 0]));
        Assert.Throws<ArgumentException>(() => SweepOptimum.Contrast([]));
        Assert.Throws<ArgumentException>(() => SweepOptimum.MostCounts([]));
    }
}
