using Qkd.Calibration;

namespace Qkd.Lab;

/// <summary>
/// `qkd correlate`: g2 between two channels of a capture, for pulsed or continuous light, plotted and reported.
/// <para>
/// Pulsed light (<see cref="PulsedG2"/>): g2(0) = A_0 / mean(A_k, k ≠ 0), the zero-delay peak's area over the mean
/// side-peak area, each peak the pairs within half a period of its centre; the zero-delay peak is the comb tooth
/// nearest 0 ps, located from the data (detector skew). Continuous light (<see cref="G2Normalisation"/>): g2(τ) =
/// c(τ) / (N1 N2 w / T), g2(0) the bin holding 0 ps. Either comes with its Poisson uncertainty, or is refused (with
/// what more data would do) when the counts cannot support it.
/// </para>
/// <para>
/// The light is pulsed when a pulse period is known: given (<see cref="Options.PulsePeriodPs"/>), the capture's link
/// settings (emulator, recording metadata), the file's header (a PTU's sync rate, or its T3 sync period), or the
/// regular spacing of tags on the sync channel; continuous otherwise, or when asked.
/// </para>
/// </summary>
public static class G2Correlation
{
    /// <summary>The report's schema (src/Qkd.Lab/Schemas/correlation.schema.json).</summary>
    public const string SchemaName = "correlation";

    /// <summary>Side peaks each way in the default pulsed range: ±(10 + 1) periods.</summary>
    public const int DefaultSidePeaksEachWay = 10;

    /// <summary>Sync tags needed before their spacing is taken as the pulse period.</summary>
    public const int MinimumSyncTags = 100;

    /// <param name="Light">"auto", "pulsed" or "continuous".</param>
    /// <param name="PulsePeriodPs">The pulse period, when the user gives it.</param>
    /// <param name="MinPs">Range start; null for the default (±20 ns continuous, ±11 periods pulsed).</param>
    /// <param name="MaxPs">Range end; likewise.</param>
    /// <param name="BinWidthPs">Bin width; null for the default (100 ps, or a twentieth of the period if smaller).</param>
    /// <param name="ExpectedZeroPs">Where zero delay is expected (t2's delay minus t1's), when the user gives it.</param>
    public sealed record Options(string Light = "auto", double? PulsePeriodPs = null, long? MinPs = null, long? MaxPs = null, long? BinWidthPs = null,
        double? ExpectedZeroPs = null);

    /// <summary>One pulsed peak: its index (0 = zero delay), centre, exposure-corrected pairs and area over the mean side peak.</summary>
    public sealed record PeakReport(int Index, double CentrePs, double Pairs, double Normalised);

    public sealed record Report(
        string Kind, string Source, ushort StartChannel, ushort StopChannel,
        string Light, string LightFrom, double? PulsePeriodPs, double ExpectedZeroPs, string ExpectedZeroFrom,
        long MinPs, long MaxPs, long BinWidthPs, long StartTags, long StopTags, long Pairs, double DurationPs,
        double? G2AtZero, double? G2Uncertainty, double? ZeroDelayPs,
        double? CentralPeakPairs, double? MeanSidePeakPairs, int? SidePeaks, double? AccidentalPairsPerBin, double? MinimumPairs,
        string? Refusal, long TagsNotPlaced,
        IReadOnlyList<double> BinCentresPs, IReadOnlyList<long> Counts, IReadOnlyList<double>? G2, IReadOnlyList<PeakReport>? Peaks, string Plot);

    /// <exception cref="ArgumentException">Options that cannot work (an unknown light, pulsed light with no period, a bad range).</exception>
    public static Report Run(LabCapture capture, ushort first, ushort second, Options options, string outDirectory)
    {
        ArgumentNullException.ThrowIfNull(capture);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Light is not ("auto" or "pulsed" or "continuous"))
            throw new ArgumentException($"--light {options.Light}: use auto, pulsed or continuous.");
        if (options.PulsePeriodPs is double given && !(given > 0 && double.IsFinite(given)))
            throw new ArgumentException($"--period-ps {given}: the pulse period must be a positive number of ps.");
        var (period, from) = options.Light == "continuous" ? (null, "--light continuous") : PulsePeriod(capture, first, second, options.PulsePeriodPs);
        if (options.Light == "pulsed" && period is null)
            throw new ArgumentException("pulsed light needs its pulse period: the capture states none, so give --period-ps.");
        bool pulsed = period is not null;

        var (expectedZero, zeroFrom) = ExpectedZero(capture, first, second, options.ExpectedZeroPs);
        long bin = options.BinWidthPs ?? (pulsed ? Math.Clamp((long)(period!.Value / 20), 1, 100) : 100);
        long reach = pulsed ? (long)Math.Ceiling((DefaultSidePeaksEachWay + 1) * period!.Value) : 20_000;
        long centre = (long)Math.Round(expectedZero);
        long min = options.MinPs ?? centre - reach, max = options.MaxPs ?? centre + reach;
        var histogram = new TimeDifferenceHistogram(first, second, min, max, bin, PairingMode.AllPairs);
        histogram.Add(capture.Span);
        double duration = capture.DurationPs;
        long[] counts = histogram.Counts.ToArray();
        double[] centres = Enumerable.Range(0, histogram.BinCount).Select(histogram.BinCentrePs).ToArray();
        var edges = Enumerable.Range(0, counts.Length).Select(i => (double)histogram.BinStartPs(i)).ToArray();

        Directory.CreateDirectory(outDirectory);
        string png = Path.Combine(outDirectory, $"correlation-{first}-{second}.png");
        Report report;
        if (pulsed)
        {
            var estimate = PulsedG2.Estimate(histogram, period!.Value, duration, expectedZero);
            var g2 = estimate.Value;
            var plot = new LabPlot($"g2 between channels {first} and {second}: pulsed light, period {period:F1} ps",
                "Time difference t2 - t1 (ps)", $"Coincidences per {bin} ps bin (pairs)");
            plot.Histogram(edges, counts.Select(c => (double)c).ToArray(), bin, "pairs");
            if (g2 is not null)
                plot.Marker(g2.ZeroDelayPs, $"zero-delay peak at {g2.ZeroDelayPs:F0} ps: g2(0) = {g2.G2AtZero:F3} ± {g2.G2Uncertainty:F3}");
            plot.SavePng(png);
            report = new Report("correlation", capture.Source, first, second, "pulsed", from, period, expectedZero, zeroFrom, histogram.MinPs, histogram.MaxPs, bin,
                histogram.StartTags, histogram.StopTags, histogram.InRange, duration,
                LabReport.Finite(g2?.G2AtZero), LabReport.Finite(g2?.G2Uncertainty), LabReport.Finite(g2?.ZeroDelayPs),
                LabReport.Finite(g2?.CentralPeakPairs), LabReport.Finite(g2?.MeanSidePeakPairs), g2?.SidePeaks, null, PulsedG2.MinimumSidePeakPairs,
                estimate.Refusal, capture.TagsNotPlaced, centres, counts, null,
                g2?.Peaks.Select(p => new PeakReport(p.Index, p.CentrePs, p.Pairs, p.Normalised)).ToList(), png);
        }
        else
        {
            var estimate = G2Normalisation.EstimateAtZero(histogram, duration);
            var normalisation = estimate.Value?.Normalisation ?? G2Normalisation.Normalise(histogram, duration);
            var g2 = estimate.Value;
            var plot = new LabPlot($"g2 between channels {first} and {second}: continuous light",
                "Time difference t2 - t1 (ps)", $"g2 = pairs / (N1 N2 w / T), w = {bin} ps");
            plot.Histogram(edges, normalisation?.G2 ?? new double[counts.Length], bin, "g2");
            plot.Level(1, "g2 = 1 (uncorrelated)");
            if (g2 is not null) plot.Marker(0, $"g2(0) = {g2.G2AtZero:F3} ± {g2.G2Uncertainty:F3}");
            plot.SavePng(png);
            report = new Report("correlation", capture.Source, first, second, "continuous", from, null, expectedZero, zeroFrom, histogram.MinPs, histogram.MaxPs, bin,
                histogram.StartTags, histogram.StopTags, histogram.InRange, duration,
                LabReport.Finite(g2?.G2AtZero), LabReport.Finite(g2?.G2Uncertainty), g2 is null ? null : 0,
                g2?.ZeroBinPairs, null, null, LabReport.Finite(normalisation?.AccidentalPairsPerBin), G2Normalisation.MinimumAccidentalPairsPerBin,
                estimate.Refusal, capture.TagsNotPlaced, centres, counts, normalisation?.G2.Select(v => LabReport.Finite(v) ?? 0).ToList(), null, png);
        }
        File.WriteAllText(Path.Combine(outDirectory, $"correlation-{first}-{second}.json"), LabReport.Serialize(report));
        return report;
    }

    /// <summary>The pulse period and where it came from, or (null, why none) for continuous light.</summary>
    internal static (double? PeriodPs, string From) PulsePeriod(LabCapture capture, ushort first, ushort second, double? given)
    {
        if (given is double p) return (p, "--period-ps");
        if (capture.Settings is { } settings) return (settings.PulsePeriodPs, "the capture's link settings");
        if (capture.SourcePulsePeriodPs is double header) return (header, "the file's header");
        ushort sync = capture.TaggerOptions?.SyncChannel ?? 0;
        if (sync != first && sync != second && SyncSpacing(capture, sync) is double spacing)
            return (spacing, $"the spacing of the tags on sync channel {sync}");
        return (null, "no pulse period known: continuous light");
    }

    /// <summary>
    /// Where zero delay should be: given, or on the emulator (whose cable delays are the truth) t2's delay minus t1's;
    /// else 0 ps. The pulsed estimate takes the comb tooth nearest it.
    /// </summary>
    internal static (double Ps, string From) ExpectedZero(LabCapture capture, ushort first, ushort second, double? given)
    {
        if (given is double z) return (z, "--zero-ps");
        if (capture.TruthKnown && capture.TaggerOptions is { DetectorDelaysPs: { } delays } tagger && capture.Profile is { } profile)
        {
            int d1 = first - tagger.FirstDetectorChannel, d2 = second - tagger.FirstDetectorChannel;
            if (d1 >= 0 && d2 >= 0 && d1 < Math.Min(delays.Length, profile.DetectorCount) && d2 < Math.Min(delays.Length, profile.DetectorCount))
                return (delays[d2] - delays[d1], "the emulator's detector delays");
        }
        return (0, "0 ps (no delays known: give --zero-ps)");
    }

    /// <summary>The median spacing of the first sync tags, when there are enough of them and most are that far apart.</summary>
    private static double? SyncSpacing(LabCapture capture, ushort sync)
    {
        var gaps = new List<long>(1024);
        long last = long.MinValue;
        foreach (ref readonly var tag in capture.Span)
        {
            if (tag.Channel != sync || !tag.IsEvent) continue;
            if (last != long.MinValue) gaps.Add(tag.TimePs - last);
            last = tag.TimePs;
            if (gaps.Count == 10_000) break;
        }
        if (gaps.Count < MinimumSyncTags - 1) return null;
        gaps.Sort();
        double median = gaps[gaps.Count / 2];
        if (median <= 0) return null;
        // A clock: nine in ten gaps within 1 % of the median (a detector on the sync input would be anything but).
        int regular = gaps.Count(g => Math.Abs(g - median) <= 0.01 * median);
        return regular >= 0.9 * gaps.Count ? median : null;
    }
}
