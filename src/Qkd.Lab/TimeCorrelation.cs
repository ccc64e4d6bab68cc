using Qkd.Calibration;
namespace Qkd.Lab;

/// <summary>
/// The generic time-tagger measurements over a capture: the time-difference histogram between two channels (every
/// pair within the range) and, normalised by the accidental level, the g2 coincidence: g2(tau) = counts(tau) /
/// (rate1 * rate2 * bin * T). Independent channels give g2 = 1; bunched light above, antibunched (single photons) below.
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
        double[]? g2 = null;
        double? g2Zero = null;
        if (normalise && duration > 0 && histogram.StartTags > 0 && histogram.StopTags > 0)
        {
            // Accidental pairs per bin: rate1 * rate2 * bin * T = N1 * N2 * bin / T.
            double accidental = (double)histogram.StartTags * histogram.StopTags * binPs / duration;
            g2 = counts.Select(c => c / accidental).ToArray();
            int zero = (int)Math.Floor((0 - minPs) / (double)binPs);
            if (zero >= 0 && zero < g2.Length) g2Zero = g2[zero];
        }
        GaussianPeak? peak = null;
        if (!normalise && counts.Any(c => c > 0))
        {
            try { peak = PeakFit.Fit(counts, centres[0], binPs); }
            catch (ArgumentException) { peak = null; } // no peak to fit (flat or too few counts): the report says so by omitting it
        }

        Directory.CreateDirectory(outDirectory);
        string kind = normalise ? "correlation" : "histogram";
        string png = Path.Combine(outDirectory, $"{kind}-{start}-{stop}.png");
        var plot = new LabPlot(normalise ? $"g2 between channels {start} and {stop}" : $"Time differences: channel {stop} after channel {start}",
            "Time difference (ps)", normalise ? "g2 (normalised coincidences)" : "Pairs per bin (counts)");
        var edges = Enumerable.Range(0, counts.Length).Select(i => (double)(minPs + (long)i * binPs)).ToArray();
        plot.Histogram(edges, normalise ? g2 ?? new double[counts.Length] : counts.Select(c => (double)c).ToArray(), binPs);
        if (normalise) plot.Level(1, "g2 = 1 (uncorrelated)");
        if (peak is not null) plot.Marker(peak.CentrePs, $"peak {peak.CentrePs:F1} ps");
        plot.SavePng(png);
        var report = new Report(kind, capture.Source, start, stop, minPs, maxPs, binPs, histogram.StartTags, histogram.StopTags, histogram.Pairs,
            histogram.BelowRange + histogram.AboveRange, duration, centres, counts, g2, g2Zero, peak?.CentrePs, peak?.SigmaPs, png);
        File.WriteAllText(Path.Combine(outDirectory, $"{kind}-{start}-{stop}.json"), LabReport.Serialize(report));
        return report;
    }
}
