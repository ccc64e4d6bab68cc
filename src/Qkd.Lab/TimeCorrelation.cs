using Qkd.Calibration;
namespace Qkd.Lab;

/// <summary>
/// The generic time-tagger measurements over a capture, as lab sessions: the time-difference histogram between two
/// channels (every pair within the range; <see cref="TimeDifferenceHistogram"/>) with its peak fitted, or the g2
/// coincidence (<see cref="G2Normalisation"/>); each plotted and reported.
/// </summary>
public static class TimeCorrelation
{
    public sealed record Report(string Kind, string Source, ushort StartChannel, ushort StopChannel, long MinPs, long MaxPs, long BinWidthPs,
        long StartTags, long StopTags, long Pairs, long OutOfRange, double DurationPs, IReadOnlyList<double> BinCentresPs, IReadOnlyList<long> Counts,
        IReadOnlyList<double>? G2, double? G2AtZero, double? PeakPs, double? PeakSigmaPs, string Plot)
    {
        /// <summary>One standard deviation of <see cref="PeakPs"/>, ps (null without a peak, or for a centroid of too few counts).</summary>
        public double? PeakUncertaintyPs { get; init; }

        /// <summary>Pairs above the background within two widths of the peak: the counts the peak was measured from.</summary>
        public double? PeakCounts { get; init; }
    }

    /// <param name="normalise">True for g2 (`qkd correlate`), false for the raw histogram (`qkd histogram`).</param>
    public static Report Run(LabCapture capture, ushort start, ushort stop, long minPs, long maxPs, long binPs, bool normalise, string outDirectory)
    {
        var histogram = new TimeDifferenceHistogram(start, stop, minPs, maxPs, binPs, PairingMode.AllPairs);
        histogram.Add(capture.Span);
        long[] counts = histogram.Counts.ToArray();
        double[] centres = Enumerable.Range(0, histogram.BinCount).Select(histogram.BinCentrePs).ToArray();
        double duration = capture.DurationPs;
        // No g2 without an accidental level (no time, or a silent channel): the report says so by omitting it.
        var g2 = normalise ? G2Normalisation.Normalise(histogram, duration) : null;
        // A peak only from enough pairs standing clear of the background; otherwise refused (InsufficientDataException)
        // before anything is written.
        string startName = ChannelNames.Of(capture, start), stopName = ChannelNames.Of(capture, stop);
        var peak = normalise ? null
            : PeakFit.FitSupported(histogram.Counts, histogram.BinCentrePs(0), histogram.BinWidthPs, $"peak of {stopName} after {startName}");

        Directory.CreateDirectory(outDirectory);
        string kind = normalise ? "correlation" : "histogram";
        string png = Path.Combine(outDirectory, $"{kind}-{start}-{stop}.png");
        var plot = new LabPlot(normalise ? $"g2 between {startName} and {stopName}" : $"Time differences: {stopName} after {startName}",
            $"t({stopName}) - t({startName}) (ps)", normalise ? $"g2 (normalised coincidences per {binPs} ps bin)" : $"pairs per {binPs} ps bin");
        var edges = Enumerable.Range(0, counts.Length).Select(i => (double)(minPs + (long)i * binPs)).ToArray();
        var values = normalise ? g2?.G2 ?? new double[counts.Length] : counts.Select(c => (double)c).ToArray();
        plot.Histogram(edges, values, binPs, normalise ? "g2" : $"{histogram.Pairs:N0} pairs");
        if (!normalise && LabPlot.SpansDecades(values)) plot.LogScale();
        if (normalise) plot.Level(1, "g2 = 1 (uncorrelated)");
        if (peak is not null) AddPeak(plot, peak);
        plot.SavePng(png);
        var report = new Report(kind, capture.Source, start, stop, minPs, maxPs, binPs, histogram.StartTags, histogram.StopTags, histogram.Pairs,
            histogram.BelowRange + histogram.AboveRange, duration, centres, counts, g2?.G2, g2?.AtZero, LabReport.Finite(peak?.CentrePs),
            LabReport.Finite(peak?.SigmaPs), png)
        {
            PeakUncertaintyPs = LabReport.Finite(peak?.CentreUncertaintyPs),
            PeakCounts = LabReport.Finite(peak?.ExcessCounts),
        };
        File.WriteAllText(Path.Combine(outDirectory, $"{kind}-{start}-{stop}.json"), LabReport.Serialize(report));
        return report;
    }

    /// <summary>The fitted Gaussian over the bins it was fitted on, its centre with uncertainty in the legend.</summary>
    private static void AddPeak(LabPlot plot, GaussianPeak peak)
    {
        var xs = Enumerable.Range(0, 401).Select(i => peak.CentrePs - 5 * peak.SigmaPs + i * peak.SigmaPs / 40).ToArray();
        plot.Curve(xs, xs.Select(peak.Evaluate).ToArray(),
            $"Gaussian fit: sigma {LabPlot.ValueWithUncertainty(peak.SigmaPs, peak.SigmaUncertaintyPs, "ps")} ({peak.ExcessCounts:F0} pairs in the peak)");
        plot.Marker(peak.CentrePs, $"peak {LabPlot.ValueWithUncertainty(peak.CentrePs, peak.CentreUncertaintyPs, "ps")}");
    }
}
