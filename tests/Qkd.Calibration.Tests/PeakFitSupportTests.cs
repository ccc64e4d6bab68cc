using CsCheck;

namespace Qkd.Calibration.Tests;

/// <summary>A peak fit's statistics and its refusal of data that cannot carry a peak.</summary>
public sealed class PeakFitSupportTests
{
    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>A sampled Gaussian (centre, sigma, entries) over a Poisson-ish flat background, in bins of <paramref name="bin"/> ps.</summary>
    private static long[] Sample(Random random, double centre, double sigma, int entries, double bin, int bins, int backgroundPerBin)
    {
        var counts = new long[bins];
        for (int i = 0; i < entries; i++)
        {
            int b = (int)Math.Floor((centre + sigma * Normal(random)) / bin);
            if (b >= 0 && b < bins) counts[b]++;
        }
        for (int b = 0; b < bins; b++) counts[b] += backgroundPerBin > 0 ? random.Next(0, 2 * backgroundPerBin + 1) : 0;
        return counts;
    }

    [Fact]
    public void A_gaussian_with_a_known_centre_is_recovered_within_its_reported_uncertainty()
    {
        // Any centre well inside the range, widths of 2 to 8 bins, a few hundred to tens of thousands of entries: the
        // fitted centre lies within four of its own standard errors (plus a hundredth of a bin for the binning) of the truth.
        Gen.Select(Gen.Double[300, 700], Gen.Double[20, 80], Gen.Int[300, 30_000], Gen.Int[0, 5], Gen.Int).Sample((centre, sigma, entries, background, seed) =>
        {
            var counts = Sample(new Random(seed), centre, sigma, entries, 10, 100, background);
            var peak = PeakFit.FitSupported(counts, 5, 10, "test peak");
            Assert.Equal("gaussian", peak.Method);
            Assert.True(peak.CentreUncertaintyPs > 0 && double.IsFinite(peak.CentreUncertaintyPs));
            Assert.InRange(peak.CentrePs - centre, -4 * peak.CentreUncertaintyPs - 0.1, 4 * peak.CentreUncertaintyPs + 0.1);
            Assert.Equal(counts.Sum(), peak.HistogramCounts);
            Assert.True(peak.Significance >= DataMinimums.PeakSignificance);
        }, iter: 60);
    }

    [Fact]
    public void The_reported_centre_uncertainty_matches_the_scatter_over_repeated_samples()
    {
        // Pull distribution: (fit - truth) / reported sigma over many samples has a standard deviation near 1.
        var random = new Random(17);
        var pulls = new List<double>();
        for (int k = 0; k < 200; k++)
        {
            var counts = Sample(random, 503.3, 40, 2_000, 10, 100, 1);
            var peak = PeakFit.FitSupported(counts, 5, 10, "test peak");
            pulls.Add((peak.CentrePs - 503.3) / peak.CentreUncertaintyPs);
        }
        double mean = pulls.Average();
        double sd = Math.Sqrt(pulls.Sum(p => (p - mean) * (p - mean)) / (pulls.Count - 1));
        Assert.InRange(sd, 0.7, 1.4);
        Assert.InRange(mean, -0.3, 0.3);
    }

    [Fact]
    public void One_entry_is_refused_with_the_entries_needed()
    {
        var counts = new long[100];
        counts[42] = 1;
        var refusal = Assert.Throws<InsufficientDataException>(() => PeakFit.FitSupported(counts, 5, 10, "peak of Z0 after sync"));
        var shortfall = Assert.Single(refusal.Shortfalls);
        Assert.Equal("peak of Z0 after sync", shortfall.Quantity);
        Assert.Equal(1, shortfall.Have);
        Assert.Equal(DataMinimums.PeakCounts, shortfall.Needed);
        Assert.Equal(100, refusal.MoreFactor);
        // The unrefused fit still reports the counts it had, so a caller can see why.
        var thin = PeakFit.Fit(counts, 5, 10)!;
        Assert.Equal(1, thin.HistogramCounts);
        Assert.NotNull(PeakFit.Unsupported(thin, "q"));
    }

    [Fact]
    public void An_empty_histogram_is_refused_as_nothing_measured()
    {
        var refusal = Assert.Throws<InsufficientDataException>(() => PeakFit.FitSupported(new long[50], 5, 10, "peak"));
        Assert.True(double.IsPositiveInfinity(refusal.MoreFactor));
        Assert.Contains("nothing was measured", refusal.Message);
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(10, 2)]
    [InlineData(100, 3)]
    [InlineData(1000, 4)]
    public void Flat_noise_has_no_significant_peak_however_many_entries(int meanPerBin, int seed)
    {
        // Poisson background only: the highest bin is noise, so the fit is refused for significance, not for entries.
        var random = new Random(seed);
        var counts = new long[200];
        for (int b = 0; b < counts.Length; b++)
        {
            // Poisson by inversion (small means) or normal approximation.
            counts[b] = meanPerBin < 30 ? Poisson(random, meanPerBin) : Math.Max(0, (long)Math.Round(meanPerBin + Math.Sqrt(meanPerBin) * Normal(random)));
        }
        var refusal = Assert.Throws<InsufficientDataException>(() => PeakFit.FitSupported(counts, 5, 10, "peak"));
        var shortfall = Assert.Single(refusal.Shortfalls);
        Assert.Contains("5 sigma", shortfall.Unit);
        Assert.True(shortfall.Needed > shortfall.Have);
    }

    [Fact]
    public void A_weak_peak_on_a_background_asks_for_the_square_of_its_missing_significance()
    {
        var counts = Sample(new Random(5), 500, 40, 60, 10, 100, 10);
        var peak = PeakFit.Fit(counts, 5, 10)!;
        Assert.InRange(peak.Significance, 0.5, DataMinimums.PeakSignificance);
        var shortfall = PeakFit.Unsupported(peak, "weak")!.Value;
        Assert.Equal(Math.Pow(DataMinimums.PeakSignificance / peak.Significance, 2), shortfall.MoreFactor, 6);
    }

    private static long Poisson(Random random, double mean)
    {
        double limit = Math.Exp(-mean), product = random.NextDouble();
        long n = 0;
        while (product > limit)
        {
            product *= random.NextDouble();
            n++;
        }
        return n;
    }
}
