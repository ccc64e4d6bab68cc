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
        IReadOnlyList<double>? G2, double? G2AtZero, double? PeakPs, double? PeakSigmaPs, string Plot);

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
        // No peak in an empty histogram: likewise omitted.
        var peak = normalise ? null : PeakFit.Fit(histogram.Counts, histogram.BinCentrePs(0), histogram.BinWidthPs);

        Directory.CreateDirectory(outDirectory);
        string kind = normalise ? "correlation" : "histogram";
        string png = Path.Combine(outDirectory, $"{kind}-{start}-{stop}.png");
        var plot = new LabPlot(normalise ? $"g2 between channels {start} and {stop}" : $"Time differences: channel {stop} after channel {start}",
            "Time difference (ps)", normalise ? "g2 (normalised coincidences)" : "Pairs per bin (counts)");
        var edges = Enumerable.Range(0, counts.Length).Select(i => (double)(minPs + (long)i * binPs)).ToArray();
        plot.Histogram(edges, normalise ? g2?.G2 ?? new double[counts.Length] : counts.Select(c => (double)c).ToArray(), binPs);
        if (normalise) plot.Level(1, "g2 = 1 (uncorrelated)");
        if (peak is not null) plot.Marker(peak.CentrePs, $"peak {peak.CentrePs:F1} ps");
        plot.SavePng(png);
        var report = new Report(kind, capture.Source, start, stop, minPs, maxPs, binPs, histogram.StartTags, histogram.StopTags, histogram.Pairs,
            histogram.BelowRange + histogram.AboveRange, duration, centres, counts, g2?.G2, g2?.AtZero, LabReport.Finite(peak?.CentrePs),
            LabReport.Finite(peak?.SigmaPs), png);
        File.WriteAllText(Path.Combine(outDirectory, $"{kind}-{start}-{stop}.json"), LabReport.Serialize(report));
        return report;
    }
}
