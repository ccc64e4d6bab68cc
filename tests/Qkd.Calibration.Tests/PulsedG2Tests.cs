using Qkd.Core.TimeTags;

namespace Qkd.Calibration.Tests;

/// <summary>
/// g2(0) of pulsed light on generated HBT streams with a known photon-number distribution, and of continuous light;
/// both refuse thin data with a message saying how much more is needed.
/// </summary>
public sealed class PulsedG2Tests
{
    private const double PeriodPs = 12_500;   // an 80 MHz laser
    private const double SkewPs = -1_060;     // channel 2's cable is shorter: the HBT peak sits at -1.06 ns

    /// <summary>
    /// Pulses of a source with photon-number probabilities <paramref name="photonNumber"/> (index n = P(n photons)) on a
    /// 50:50 splitter: each photon reaches detector 1 or 2 and is detected with <paramref name="efficiency"/>; a detector
    /// clicks at most once per pulse, with 40 ps of jitter; channel 2 is <see cref="SkewPs"/> off.
    /// </summary>
    private static TimeTag[] Hbt(Random random, double[] photonNumber, double efficiency, long pulses)
    {
        var tags = new List<TimeTag>();
        for (long i = 0; i < pulses; i++)
        {
            double u = random.NextDouble();
            int n = 0;
            while (n < photonNumber.Length - 1 && u >= photonNumber[n]) u -= photonNumber[n++];
            bool first = false, second = false;
            for (int p = 0; p < n; p++)
            {
                double r = random.NextDouble();
                if (r < efficiency / 2) first = true;
                else if (r < efficiency) second = true;
            }
            double t = 1e6 + i * PeriodPs;
            if (first) tags.Add(new TimeTag((long)Math.Round(t + 40 * SyntheticTags.Normal(random)), 1));
            if (second) tags.Add(new TimeTag((long)Math.Round(t + SkewPs + 40 * SyntheticTags.Normal(random)), 2));
        }
        tags.Sort((a, b) => a.TimePs.CompareTo(b.TimePs));
        return [.. tags];
    }

    /// <summary>The exact g2(0) of click detectors behind the splitter: P(both click in one pulse) / P(1 clicks) P(2 clicks).</summary>
    private static double ExpectedG2(double[] photonNumber, double efficiency)
    {
        double single = 0, both = 0;
        for (int n = 0; n < photonNumber.Length; n++)
        {
            double none1 = Math.Pow(1 - efficiency / 2, n), neither = Math.Pow(1 - efficiency, n);
            single += photonNumber[n] * (1 - none1);
            both += photonNumber[n] * (1 - 2 * none1 + neither);
        }
        return both / (single * single);
    }

    private static (Refusable<PulsedG2> Estimate, TimeDifferenceHistogram Histogram) Pulsed(TimeTag[] tags, double periodPs = PeriodPs)
    {
        var histogram = new TimeDifferenceHistogram(1, 2, -137_500, 137_500, 100);
        histogram.Add(tags);
        return (PulsedG2.Estimate(histogram, periodPs, tags[^1].TimePs - tags[0].TimePs), histogram);
    }

    private static double[] Poisson(double mu, int max = 8) =>
        Enumerable.Range(0, max + 1).Select(n => Math.Exp(-mu) * Math.Pow(mu, n) / Enumerable.Range(1, n).Aggregate(1.0, (a, b) => a * b)).ToArray();

    [Fact]
    public void A_heralded_like_source_gives_its_known_g2_within_the_uncertainty_at_the_skewed_peak()
    {
        // Mostly single photons with a little two-photon emission: g2(0) about 0.37.
        double[] source = [0.898, 0.1, 0.002];
        double truth = ExpectedG2(source, 0.3);
        var (estimate, _) = Pulsed(Hbt(new Random(11), source, 0.3, 2_000_000));

        var g2 = estimate.Value ?? throw new Xunit.Sdk.XunitException(estimate.Refusal);
        Assert.InRange(truth, 0.3, 0.45);
        Assert.True(Math.Abs(g2.G2AtZero - truth) < 3 * g2.G2Uncertainty, $"g2(0) {g2.G2AtZero:F3} +- {g2.G2Uncertainty:F3}, truth {truth:F3}");
        Assert.InRange(g2.G2Uncertainty, 0.005, 0.1);
        Assert.InRange(g2.ZeroDelayPs, SkewPs - 15, SkewPs + 15);
        Assert.Equal(20, g2.SidePeaks);
        // Every side peak is accidental: about 1.
        Assert.All(g2.Peaks.Where(p => p.Index != 0), p => Assert.InRange(p.Normalised, 0.7, 1.3));
    }

    [Fact]
    public void An_attenuated_laser_reads_one_not_five()
    {
        double[] laser = Poisson(0.1);
        var tags = Hbt(new Random(5), laser, 0.4, 2_000_000);
        var (estimate, histogram) = Pulsed(tags);

        var g2 = estimate.Value ?? throw new Xunit.Sdk.XunitException(estimate.Refusal);
        Assert.True(Math.Abs(g2.G2AtZero - 1) < 3 * g2.G2Uncertainty, $"g2(0) {g2.G2AtZero:F3} +- {g2.G2Uncertainty:F3}");
        Assert.InRange(g2.ZeroDelayPs, SkewPs - 15, SkewPs + 15);
        // The continuous normalisation of the same histogram reads several times 1 on a peak (the old "g2 about 5").
        var perBin = G2Normalisation.Normalise(histogram, tags[^1].TimePs - tags[0].TimePs)!;
        Assert.True(perBin.G2.Max() > 3, $"per-bin g2 peaks at {perBin.G2.Max():F2}");
    }

    [Fact]
    public void Single_photons_leave_the_central_peak_empty_and_it_is_still_found_from_its_neighbours()
    {
        double[] singlePhotons = [0.8, 0.2];
        var (estimate, _) = Pulsed(Hbt(new Random(8), singlePhotons, 0.5, 1_000_000));

        var g2 = estimate.Value ?? throw new Xunit.Sdk.XunitException(estimate.Refusal);
        Assert.Equal(0, g2.CentralPeakPairs);
        Assert.True(g2.G2AtZero < 3 * g2.G2Uncertainty, $"g2(0) {g2.G2AtZero:F4} +- {g2.G2Uncertainty:F4}");
        Assert.InRange(g2.ZeroDelayPs, SkewPs - 15, SkewPs + 15);
    }

    [Fact]
    public void Thin_data_is_refused_with_how_much_more_is_needed()
    {
        var (estimate, _) = Pulsed(Hbt(new Random(2), Poisson(0.1), 0.4, 5_000));
        Assert.Null(estimate.Value);
        Assert.Contains("at least 100 side-peak pairs", estimate.Refusal);
        Assert.Contains("times as much data", estimate.Refusal);
    }

    [Fact]
    public void Continuous_light_has_no_comb_and_is_refused_as_pulsed_but_reads_one_as_continuous()
    {
        var random = new Random(4);
        var tags = SyntheticTags.Merge(SyntheticTags.Poisson(random, 1, 1e-5, 1e10), SyntheticTags.Poisson(random, 2, 1e-5, 1e10));

        var (pulsed, histogram) = Pulsed(tags);
        Assert.Null(pulsed.Value);
        Assert.Contains("no pulse comb", pulsed.Refusal);

        var continuous = G2Normalisation.EstimateAtZero(histogram, tags[^1].TimePs - tags[0].TimePs);
        var g2 = continuous.Value ?? throw new Xunit.Sdk.XunitException(continuous.Refusal);
        Assert.True(Math.Abs(g2.G2AtZero - 1) < 3 * g2.G2Uncertainty, $"g2(0) {g2.G2AtZero:F3} +- {g2.G2Uncertainty:F3}");
        Assert.InRange(g2.G2Uncertainty, 0.03, 0.2);
    }

    [Fact]
    public void Continuous_g2_refuses_a_thin_accidental_level_and_says_how_much_longer()
    {
        var random = new Random(9);
        var tags = SyntheticTags.Merge(SyntheticTags.Poisson(random, 1, 1e-6, 1e9), SyntheticTags.Poisson(random, 2, 1e-6, 1e9));
        var histogram = new TimeDifferenceHistogram(1, 2, -20_000, 20_000, 100);
        histogram.Add(tags);
        var refused = G2Normalisation.EstimateAtZero(histogram, tags[^1].TimePs - tags[0].TimePs);
        Assert.Null(refused.Value);
        Assert.Contains("times longer", refused.Refusal);

        var silent = new TimeDifferenceHistogram(1, 2, -100, 100, 10);
        silent.Add([new TimeTag(0, 1), new TimeTag(50, 1)]);
        Assert.Contains("channel 2 has no tag", G2Normalisation.EstimateAtZero(silent, 50).Refusal);
    }

    [Fact]
    public void Ranges_and_bins_that_cannot_hold_the_peaks_are_refused()
    {
        var tags = Hbt(new Random(3), Poisson(0.1), 0.4, 200_000);
        var narrow = new TimeDifferenceHistogram(1, 2, -15_000, 15_000, 100);
        narrow.Add(tags);
        Assert.Contains("side peak", PulsedG2.Estimate(narrow, PeriodPs, 1e12).Refusal);
        var wide = new TimeDifferenceHistogram(1, 2, -137_500, 137_500, 5_000);
        wide.Add(tags);
        Assert.Contains("too wide", PulsedG2.Estimate(wide, PeriodPs, 1e12).Refusal);
    }
}
