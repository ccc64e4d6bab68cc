
namespace Qkd.Lab;

/// <summary>
/// `qkd monitor`'s record of a session: every refresh, where the receiver timing came from, and a plot of the count
/// rates over time (its schema: Schemas/monitor.schema.json).
/// </summary>
public static class MonitorReport
{
    public const string SchemaName = "monitor";

    /// <param name="Timing">Where the detector delays came from (<see cref="LabReceiverTiming.Source"/>).</param>
    /// <param name="DistanceKm">Fibre length the measurement assumed, km.</param>
    public sealed record Report(string Kind, double Seconds, IReadOnlyList<MonitorSnapshot> Snapshots, string Plot)
    {
        public string? Timing { get; init; }
        public double? DistanceKm { get; init; }
    }

    public static Report Write(IReadOnlyList<MonitorSnapshot> snapshots, string directory, LabReceiverTiming? timing = null, double? distanceKm = null)
    {
        Directory.CreateDirectory(directory);
        string png = Path.Combine(directory, "monitor-rates.png");
        var plot = new ScottPlot.Plot();
        double[] times = snapshots.Select(s => s.Elapsed.TotalSeconds).ToArray();
        int channels = snapshots.Count == 0 ? 0 : snapshots.Max(s => s.RatesHz.Count);
        for (int c = 0; c < channels; c++)
        {
            double[] rates = snapshots.Select(s => c < s.RatesHz.Count ? s.RatesHz[c] / 1e3 : 0).ToArray();
            if (rates.All(r => r == 0)) continue;
            var line = plot.Add.Scatter(times, rates);
            line.LegendText = c == 0 ? "sync (ch 0)" : $"channel {c}";
        }
        plot.ShowLegend();
        plot.Title("Count rates per channel");
        plot.XLabel("Time since start (s)");
        plot.YLabel("Rate (kHz)");
        plot.SavePng(png, 1000, 600);
        var report = new Report("monitor", times.LastOrDefault(), snapshots, png) { Timing = timing?.Source, DistanceKm = LabReport.Finite(distanceKm) };
        File.WriteAllText(Path.Combine(directory, "monitor.json"), ToJson(report));
        return report;
    }

    public static string ToJson(Report report) => LabReport.Serialize(report);
}
