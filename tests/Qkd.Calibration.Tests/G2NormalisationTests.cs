using CsCheck;
using Qkd.Core.TimeTags;

namespace Qkd.Calibration.Tests;

public sealed class G2NormalisationTests
{
    private static (TimeDifferenceHistogram Histogram, double DurationPs) Correlate(TimeTag[] tags, long minPs, long maxPs, long binPs)
    {
        var histogram = new TimeDifferenceHistogram(1, 2, minPs, maxPs, binPs);
        histogram.Add(tags);
        return (histogram, tags[^1].TimePs - tags[0].TimePs);
    }

    [Fact]
    public void Independent_poisson_channels_have_a_g2_of_about_one_at_every_difference()
    {
        // 1 ms of two independent channels at 5..40 MHz: the accidental level is every bin's expectation (the range,
        // 20 ns, is short against the capture, so the ends hardly matter).
        Gen.Select(Gen.Double[5e-6, 4e-5], Gen.Double[5e-6, 4e-5], Gen.Int).Sample((rate1, rate2, seed) =>
        {
            var random = new Random(seed);
            var tags = SyntheticTags.Merge(SyntheticTags.Poisson(random, 1, rate1, 1e9), SyntheticTags.Poisson(random, 2, rate2, 1e9));
            var (histogram, duration) = Correlate(tags, -20_000, 20_000, 100);

            var g2 = G2Normalisation.Normalise(histogram, duration)!;

            double mean = g2.G2.Average();
            // Sum of 400 bins of at least 1.0e3 accidental pairs in all: a few percent at 4 sigma in the worst case.
            double sigma = 1 / Math.Sqrt(g2.AccidentalPairsPerBin * g2.G2.Length);
            Assert.InRange(mean, 1 - 5 * sigma - 0.001, 1 + 5 * sigma + 0.001);
            Assert.InRange(g2.AtZero!.Value, 0, 1 + 10 / Math.Sqrt(g2.AccidentalPairsPerBin));
        }, iter: 20);
    }

    [Fact]
    public void A_delayed_copy_shows_a_peak_at_its_delay_and_one_elsewhere()
    {
        var random = new Random(3);
        var first = SyntheticTags.Poisson(random, 1, 1e-5, 1e9);
        // Half of channel 1's photons reach channel 2 3 ns later; channel 2 also sees independent light.
        var copy = first.Where(_ => random.NextDouble() < 0.5).Select(t => new TimeTag(t.TimePs + 3_000, 2)).ToList();
        copy.AddRange(SyntheticTags.Poisson(random, 2, 1e-5, 1e9));
        var (histogram, duration) = Correlate(SyntheticTags.Merge(first, copy), -10_000, 10_000, 100);

        var g2 = G2Normalisation.Normalise(histogram, duration)!;

        int atDelay = (3_000 - -10_000) / 100;
        Assert.True(g2.G2[atDelay] > 20, $"g2 at the delay: {g2.G2[atDelay]}");
        Assert.InRange(g2.G2.Take(50).Average(), 0.9, 1.1);
        Assert.Equal(100, g2.ZeroBin);
    }

    [Fact]
    public void The_accidental_level_is_n1_n2_bin_over_duration()
    {
        Assert.Equal(1000.0 * 2000 * 50 / 1e9, G2Normalisation.AccidentalPairs(1000, 2000, 50, 1e9));
        var tags = SyntheticTags.Merge(
            [new TimeTag(0, 1), new TimeTag(1_000, 1)],
            [new TimeTag(100, 2), new TimeTag(2_000, 2)]);
        var (histogram, duration) = Correlate(tags, 0, 1_000, 100);
        var g2 = G2Normalisation.Normalise(histogram, duration)!;
        // 2 * 2 * 100 / 2000 = 0.2 accidental pairs per bin; the pairs at 100 ps and at 1000 ps fall in bins 1 and (out of range).
        Assert.Equal(0.2, g2.AccidentalPairsPerBin, 12);
        Assert.Equal(5.0, g2.G2[1], 12);
        Assert.Equal(0, g2.ZeroBin);
        Assert.Equal(0.0, g2.AtZero);
    }

    [Fact]
    public void No_level_no_g2_and_a_range_without_zero_has_no_g2_at_zero()
    {
        var silent = new TimeDifferenceHistogram(1, 2, -100, 100, 10);
        silent.Add([new TimeTag(0, 1), new TimeTag(50, 1)]);
        Assert.Null(G2Normalisation.Normalise(silent, 50));

        var tags = SyntheticTags.Merge([new TimeTag(0, 1)], [new TimeTag(500, 2)]);
        var (histogram, duration) = Correlate(tags, 200, 900, 100);
        Assert.Null(G2Normalisation.Normalise(histogram, 0));
        var g2 = G2Normalisation.Normalise(histogram, duration)!;
        Assert.Equal(-2, g2.ZeroBin);
        Assert.Null(g2.AtZero);

        var startStop = new TimeDifferenceHistogram(1, 2, 0, 100, 10, PairingMode.NearestStart);
        Assert.Throws<ArgumentException>(() => G2Normalisation.Normalise(startStop, 100));
    }
}
