using Qkd.Calibration;

namespace Qkd.Lab;

/// <summary>
/// Turns a detector calibration run into the lab engineer's outputs: the report, and per head a plot of the
/// click-to-next-click histogram on a log axis (empty bins left out) with the fitted background-plus-afterpulse curve,
/// its values and uncertainties in the legend, and the dead time marked. A refused calibration
/// (<see cref="InsufficientDataException"/>) never gets here: the run throws before any output.
/// </summary>
public static class DetectorCalibrationOutput
{
    public static DetectorCalibrationReport Write(DetectorCalibrationRun.Result result, string directory)
    {
        ArgumentNullException.ThrowIfNull(result);
        Directory.CreateDirectory(directory);
        var plots = new List<string>();
        var channels = new List<DetectorChannelReport>();
        foreach (var c in result.Dark)
        {
            channels.Add(Row(c));
            string name = ChannelNames.Of(result.TaggerTruth, result.Truth, c.Channel);
            plots.Add(PlotOf(c, name).SavePng(Path.Combine(directory, $"detector-{c.Channel}-interarrival.png")));
        }
        DetectorEfficiencyReport? efficiency = result.Efficiency is { } e
            ? new DetectorEfficiencyReport(LabReport.Finite(e.Efficiency), LabReport.Finite(e.EfficiencyUncertainty), e.MeanPhotonNumber, e.Transmittance, e.Pulses)
            {
                LightClicks = result.Light?.Sum(l => l.Clicks),
            }
            : null;
        var report = new DetectorCalibrationReport("detector-calibration", result.DarkSource, result.DarkDurationSeconds, channels, efficiency, plots);
        File.WriteAllText(Path.Combine(directory, "detector-calibration.json"), LabReport.Serialize(report));
        return report;
    }

    /// <summary>One head's report row: every estimate with its uncertainty and the counts behind it; null for what was not measurable.</summary>
    public static DetectorChannelReport Row(DetectorChannelAnalysis c)
    {
        ArgumentNullException.ThrowIfNull(c);
        double? dead = c.DeadTime.Found ? LabReport.Finite(c.DeadTime.DeadTimePs) : null;
        var fit = c.Afterpulses;
        bool fitted = double.IsFinite(fit.Probability);
        return new DetectorChannelReport(c.Channel, c.Clicks, LabReport.Finite(c.PrimaryRateHz) ?? 0, LabReport.Finite(c.PrimaryRateUncertaintyHz) ?? 0,
            LabReport.Finite(c.ClickRateHz) ?? 0, dead,
            fitted ? fit.Probability : null, fitted ? LabReport.Finite(fit.ProbabilityUncertainty) : null,
            fitted ? LabReport.Finite(fit.DecayPs) : null, fitted ? LabReport.Finite(fit.DecayUncertaintyPs) : null)
        {
            Intervals = c.Histogram.Gaps,
            // The edge is located to a bin (the mean gap in it): a uniform spread over the bin.
            DeadTimeUncertaintyPs = dead is null ? null : c.Histogram.BinWidthPs / Math.Sqrt(12),
            AfterpulseCounts = fitted ? LabReport.Finite(fit.ExcessCounts) : null,
        };
    }

    /// <summary>
    /// The plot of one head: time to the next click, counts per bin on a log axis (afterpulse excess and exponential
    /// background are both near-straight there), the part where afterpulsing lives (the dead time plus ten decay
    /// constants, at least 1 us), not the whole window.
    /// </summary>
    public static LabPlot PlotOf(DetectorChannelAnalysis c, string channelName)
    {
        ArgumentNullException.ThrowIfNull(c);
        var h = c.Histogram;
        double? dead = c.DeadTime.Found ? c.DeadTime.DeadTimePs : null;
        var fit = c.Afterpulses;
        bool fitted = double.IsFinite(fit.Probability);
        double shownPs = Math.Max(1e6, (dead ?? 0) + 10 * (fitted && double.IsFinite(fit.DecayPs) ? fit.DecayPs : 1e5));
        int bins = (int)Math.Min(h.BinCount, Math.Ceiling(shownPs / h.BinWidthPs));
        // Drawn in about 100 wider bins: the analysis bins (a pulse period) hold a count or none far from the dead time,
        // which on a log axis is a scatter of dots, not a shape.
        int merge = Math.Max(1, bins / DisplayBins);
        int shown = bins / merge;
        long displayWidthPs = h.BinWidthPs * merge;
        var edges = new double[shown];
        var counts = new double[shown];
        var model = new double[shown];
        for (int b = 0; b < shown; b++)
        {
            edges[b] = (h.BinCentrePs(b * merge) - h.BinWidthPs / 2.0) / 1e3;
            for (int k = b * merge; k < (b + 1) * merge; k++)
            {
                counts[b] += h.Counts[k];
                if (dead is double d && fitted) model[b] += fit.ModelCounts(h.BinCentrePs(k), d, h.BinWidthPs);
            }
        }
        var plot = new LabPlot($"Detector {channelName}: time to the next click (light blocked, {c.Clicks:N0} clicks)", "Time to next click (ns)",
                $"intervals per {FormatNs(displayWidthPs)} bin")
            .LogScale()
            .Histogram(edges, counts, displayWidthPs / 1e3, $"measured: {h.Gaps:N0} intervals");
        if (dead is not null && fitted)
        {
            var xs = new List<double>();
            var ys = new List<double>();
            for (int b = 0; b < shown; b++)
            {
                if (!(model[b] > 0)) continue;
                xs.Add(edges[b] + displayWidthPs / 2e3);
                ys.Add(model[b]);
            }
            string decay = double.IsFinite(fit.DecayPs)
                ? $", tau {LabPlot.ValueWithUncertainty(fit.DecayPs / 1e3, fit.DecayUncertaintyPs / 1e3, "ns")}"
                : " (no significant excess: no decay)";
            if (xs.Count > 1)
                plot.Curve(xs.ToArray(), ys.ToArray(), $"fit: afterpulse p {LabPlot.ValueWithUncertainty(fit.Probability, fit.ProbabilityUncertainty, "")}{decay}");
        }
        if (dead is double deadPs) plot.Marker(deadPs / 1e3, $"dead time {LabPlot.ValueWithUncertainty(deadPs / 1e3, h.BinWidthPs / Math.Sqrt(12) / 1e3, "ns")}");
        return plot;
    }

    /// <summary>Bins drawn across the shown range, about.</summary>
    public const int DisplayBins = 100;

    private static string FormatNs(long ps) => ps % 1000 == 0 ? $"{ps / 1000} ns" : $"{ps} ps";
}
