namespace Qkd.Lab;

/// <summary>
/// Turns a detector calibration run into the lab engineer's outputs: the report, and per head a plot of the
/// click-to-next-click histogram (log counts) with the fitted background-plus-afterpulse curve and the dead time marked.
/// </summary>
public static class DetectorCalibrationOutput
{
    public static DetectorCalibrationReport Write(DetectorCalibrationRun.Result result, string directory)
    {
        Directory.CreateDirectory(directory);
        var plots = new List<string>();
        var channels = new List<DetectorChannelReport>();
        foreach (var c in result.Dark)
        {
            var h = c.Histogram;
            double? dead = c.DeadTime.Found ? c.DeadTime.DeadTimePs : null;
            var fit = c.Afterpulses;
            bool fitted = double.IsFinite(fit.Probability);
            channels.Add(new DetectorChannelReport(c.Channel, c.Clicks, c.PrimaryRateHz, c.PrimaryRateUncertaintyHz, c.ClickRateHz, dead,
                fitted ? fit.Probability : null, fitted ? LabReport.Finite(fit.ProbabilityUncertainty) : null,
                fitted ? LabReport.Finite(fit.DecayPs) : null, fitted ? LabReport.Finite(fit.DecayUncertaintyPs) : null));

            // Log counts: the afterpulse excess and the exponential background are both straight-ish there. Show the
            // part where afterpulsing lives (the dead time plus ten decay constants, at least 1 us), not the whole window.
            double shownPs = Math.Max(1e6, (dead ?? 0) + 10 * (fitted && double.IsFinite(fit.DecayPs) ? fit.DecayPs : 1e5));
            int bins = (int)Math.Min(h.BinCount, Math.Ceiling(shownPs / h.BinWidthPs));
            var edges = new double[bins];
            var logCounts = new double[bins];
            for (int b = 0; b < bins; b++)
            {
                edges[b] = (h.BinCentrePs(b) - h.BinWidthPs / 2.0) / 1e3;
                logCounts[b] = h.Counts[b] > 0 ? Math.Log10(h.Counts[b]) : 0;
            }
            var plot = new LabPlot($"Detector {c.Channel}: time to the next click (light blocked)", "Time to next click (ns)", "log10(counts per bin)")
                .Histogram(edges, logCounts, h.BinWidthPs / 1e3, "measured");
            if (dead is double d && fitted)
            {
                var xs = new List<double>();
                var ys = new List<double>();
                for (int b = 0; b < bins; b++)
                {
                    double model = fit.ModelCounts(h.BinCentrePs(b), d, h.BinWidthPs);
                    if (model <= 0) continue;
                    xs.Add(h.BinCentrePs(b) / 1e3);
                    ys.Add(Math.Log10(model));
                }
                if (xs.Count > 1) plot.Curve(xs.ToArray(), ys.ToArray(), $"fit: afterpulse p = {fit.Probability:F3}, tau = {fit.DecayPs / 1e3:F1} ns");
            }
            if (dead is double deadPs) plot.Marker(deadPs / 1e3, $"dead time {deadPs / 1e3:F2} ns");
            plots.Add(plot.SavePng(Path.Combine(directory, $"detector-{c.Channel}-interarrival.png")));
        }
        DetectorEfficiencyReport? efficiency = result.Efficiency is { } e
            ? new DetectorEfficiencyReport(LabReport.Finite(e.Efficiency), LabReport.Finite(e.EfficiencyUncertainty), e.MeanPhotonNumber, e.Transmittance, e.Pulses)
            : null;
        var report = new DetectorCalibrationReport("detector-calibration", result.DarkSource, result.DarkDurationSeconds, channels, efficiency, plots);
        File.WriteAllText(Path.Combine(directory, "detector-calibration.json"), LabReport.Serialize(report));
        return report;
    }
}
