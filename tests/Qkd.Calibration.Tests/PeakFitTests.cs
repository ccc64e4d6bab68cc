
namespace Qkd.Calibration.Tests;

public sealed class PeakFitTests
{
    [Theory]
    [InlineData(503.7, 40.0, 10.0)]
    [InlineData(221.2, 15.0, 10.0)]
    [InlineData(777.7, 80.0, 20.0)]
    public void Fit_finds_the_sub_bin_centre_and_width_of_a_sampled_gaussian(double centre, double sigma, double bin)
    {
        var random = new Random(3);
        int bins = (int)(1000 / bin);
        var counts = new long[bins];
        for (int i = 0; i < 100_000; i++)
        {
            // Box-Muller normal samples plus a flat background.
            double x = centre + sigma * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            int b = (int)Math.Floor(x / bin);
            if (b >= 0 && b < bins) counts[b]++;
        }
        for (int b = 0; b < bins; b++) counts[b] += random.Next(0, 20);

        var peak = PeakFit.Fit(counts, bin / 2, bin)!;
        Assert.Equal("gaussian", peak.Method);
        Assert.InRange(peak.CentrePs - centre, -1.0, 1.0);
        Assert.InRange(peak.SigmaPs / sigma, 0.95, 1.05);
        Assert.True(peak.CentreUncertaintyPs > 0 && peak.CentreUncertaintyPs < 1);
    }

    [Fact]
    public void Empty_histogram_has_no_peak() => Assert.Null(PeakFit.Fit(new long[10], 5, 10));
}
