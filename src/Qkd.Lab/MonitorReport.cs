using Qkd.Emulation.TimeTagging;

namespace Qkd.Lab;

/// <summary>
/// `qkd monitor`'s record of a session (schema: Schemas/monitor.schema.json): every refresh, where the receiver timing
/// came from, a plot of the count rates over time with their Poisson error bars, channels named by role (sync, Z0, Z1,
/// X0, X1), and a plot of the live QBER per basis with its uncertainty.
/// </summary>
public static class MonitorReport
{
    public const string SchemaName = "monitor";

    public sealed record Report(string Kind, double Seconds, IReadOnlyList<MonitorSnapshot> Snapshots, string Plot)
    {
        /// <summary>The QBER plot; null when nothing was sifted.</summary>
        public string? QberPlot { get; init; }

        /// <summary>Where the detector delays came from (<see cref="LabReceiverTiming.Source"/>).</summary>
        public string? Timing { get; init; }

        /// <summary>Fibre length the measurement assumed, km.</summary>
        public double? DistanceKm { get; init; }
    }

    /// <param name="tagger">The tagger's wiring, to name channels by role; null: the emulated tagger's (sync on 0, detectors from 1).</param>
    public static Report Write(IReadOnlyList<MonitorSnapshot> snapshots, string directory, LabReceiverTiming? timing = null, double? distanceKm = null,
        EmulatedTimeTaggerOptions? tagger = null)
    {
        ArgumentNullException.ThrowIfNull(snapshots);
        Directory.CreateDirectory(directory);
        string png = RatePlot(snapshots, tagger ?? new EmulatedTimeTaggerOptions()).SavePng(Path.Combine(directory, "monitor-rates.png"));
        var qber = QberPlot(snapshots);
        string? qberPng = qber?.SavePng(Path.Combine(directory, "monitor-qber.png"));
        var report = new Report("monitor", snapshots.Count == 0 ? 0 : snapshots[^1].Elapsed.TotalSeconds, snapshots, png)
        {
            QberPlot = qberPng, Timing = timing?.Source, DistanceKm = LabReport.Finite(distanceKm),
        };
        File.WriteAllText(Path.Combine(directory, "monitor.json"), ToJson(report));
        return report;
    }

    /// <summary>Rates per channel over time (kHz), each point with its one-sigma Poisson error bar; silent channels left out.</summary>
    public static LabPlot RatePlot(IReadOnlyList<MonitorSnapshot> snapshots, EmulatedTimeTaggerOptions tagger)
    {
        ArgumentNullException.ThrowIfNull(snapshots);
        var plot = new LabPlot("Count rates per channel", "Time since start (s)", "Rate (kHz), error bars: one sigma (Poisson)");
        double[] times = snapshots.Select(s => s.Elapsed.TotalSeconds).ToArray();
        int channels = snapshots.Count == 0 ? 0 : snapshots.Max(s => s.RatesHz.Count);
        for (int c = 0; c < channels; c++)
        {
            double[] rates = snapshots.Select(s => c < s.RatesHz.Count ? s.RatesHz[c] / 1e3 : 0).ToArray();
            if (rates.All(r => r == 0)) continue;
            double[] errors = snapshots.Select(s => s.RateUncertaintyHz(c) / 1e3).ToArray();
            plot.Points(times, rates, errors, ChannelNames.Of(tagger, null, (ushort)c));
        }
        return plot;
    }

    /// <summary>QBER per basis over time (%), with binomial error bars; null when nothing was sifted.</summary>
    public static LabPlot? QberPlot(IReadOnlyList<MonitorSnapshot> snapshots)
    {
        ArgumentNullException.ThrowIfNull(snapshots);
        var plot = new LabPlot("Live QBER per basis (since the start)", "Time since start (s)", "QBER (%), error bars: one sigma (binomial)");
        bool any = false;
        foreach (var (basis, qber, uncertainty, sifted) in new (string, Func<MonitorSnapshot, double?>, Func<MonitorSnapshot, double?>, Func<MonitorSnapshot, long>)[]
                 { ("Z", s => s.QberZ, s => s.QberZUncertainty, s => s.SiftedZ), ("X", s => s.QberX, s => s.QberXUncertainty, s => s.SiftedX) })
        {
            var shown = snapshots.Where(s => qber(s) is not null && sifted(s) > 0).ToArray();
            if (shown.Length == 0) continue;
            any = true;
            plot.Points(shown.Select(s => s.Elapsed.TotalSeconds).ToArray(), shown.Select(s => 100 * qber(s)!.Value).ToArray(),
                shown.Select(s => 100 * (uncertainty(s) ?? 0)).ToArray(),
                $"QBER {basis} ({sifted(shown[^1]):N0} sifted bits at the end)");
        }
        return any ? plot : null;
    }

    public static string ToJson(Report report) => LabReport.Serialize(report);
}
