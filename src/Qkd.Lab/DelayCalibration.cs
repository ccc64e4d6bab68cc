using System.Globalization;
using Qkd.Core;
using Qkd.Calibration;

namespace Qkd.Lab;

/// <summary>
/// <c>qkd calibrate delays</c> as a lab session: each detector channel's delay relative to the sync channel, fitted by
/// <see cref="DelayFit"/> (folding onto the measured pulse period, Gaussian peak, whole periods), compared with the
/// emulator's truth when the capture has one, plotted per detector, reported, and written as a
/// <see cref="DelayConfiguration"/>.
/// </summary>
/// <remarks>
/// Whole periods come from Alice's vacuum pulses when her pattern is known (emulator, or a recording with its seed):
/// "alice-pattern"; otherwise from <see cref="DelayCalibrationOptions.ExpectedDelayPs"/>: "expected-delay".
/// Result: delay = q*T + f, ps, the detector input's delay minus the sync input's delay.
/// </remarks>
public static class DelayCalibration
{
    public const string SchemaName = "delay-calibration";

    /// <summary>Per detector, the fine (folded) histogram and its fit: what the plots show.</summary>
    public sealed record DetectorHistogram(ushort Channel, double FirstBinCentrePs, long BinWidthPs, long[] Counts, GaussianPeak? Peak);

    public sealed record Result(DelayCalibrationReport Report, DelayConfiguration Configuration, IReadOnlyList<DetectorHistogram> Histograms);

    /// <param name="outDirectory">Folder for one PNG per detector; null: no plots.</param>
    /// <param name="configurationFile">Where to write the delays (a <see cref="DelayConfiguration"/>); null: nowhere.</param>
    public static Result Run(LabCapture capture, DelayCalibrationOptions options, string? outDirectory = null, string? configurationFile = null)
    {
        ArgumentNullException.ThrowIfNull(capture);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var sync = SyncPeriod.Measure(capture.Span, options.SyncChannel, options.SyncDivider);
        if (!sync.IsMeasured)
            throw new ArgumentException($"{capture.Source}: {sync.SyncTags} tags on sync channel {options.SyncChannel}; at least two are needed to measure the pulse period.");
        Func<long, bool>? isVacuumPulse = capture.Symbols is { } symbols ? pulse => symbols.IntensityAt(pulse) == Intensity.Vacuum : null;
        // Refused (InsufficientDataException) before anything is written: a refused calibration leaves no plot,
        // report or configuration behind.
        var fit = DelayFit.Fit(capture.Span, options, sync, isVacuumPulse);

        var histograms = new List<DetectorHistogram>();
        var detectors = new List<DetectorDelayReport>();
        var delays = new long[fit.Detectors.Count];
        for (int d = 0; d < fit.Detectors.Count; d++)
        {
            var detector = fit.Detectors[d];
            var folded = detector.Folded;
            string? plot = outDirectory is null ? null : Plot(capture, detector, options.SyncChannel, fit.PulsePeriodPs, outDirectory);
            histograms.Add(new DetectorHistogram(detector.Channel, folded.FirstBinCentrePs, folded.BinWidthPs, folded.Counts, detector.Peak));
            detectors.Add(Row(capture, detector, plot));
            delays[d] = detector.DelayPs is double delay ? (long)Math.Round(delay) : 0;
        }
        var configuration = new DelayConfiguration(options.SyncChannel, options.DetectorChannels.ToArray(), delays) { PathDelayPs = options.PathDelayPs };
        if (configurationFile is not null) configuration.Save(configurationFile);
        var report = new DelayCalibrationReport(LabReport.SchemaPath(SchemaName), capture.Source,
            "detector tag minus preceding sync tag minus the fibre delay, folded onto the pulse period measured from the sync tags; " +
            "Gaussian fit of the folded peak; whole periods from Alice's vacuum pulses when her pattern is known",
            options.SyncChannel, options.SyncDivider, sync.SyncTags, options.PulsePeriodPs, fit.PulsePeriodPs, fit.PathDelayPs, options.BinWidthPs,
            detectors, configurationFile);
        return new Result(report, configuration, histograms);
    }

    /// <summary>The report row: the fit, and its error against the emulator's cable delays when the capture knows them.</summary>
    private static DetectorDelayReport Row(LabCapture capture, DetectorDelay detector, string? plot)
    {
        ushort channel = detector.Channel;
        long? truth = capture.TruthKnown && capture.TaggerOptions is { } tagger && capture.Profile is { } profile
            && channel >= tagger.FirstDetectorChannel && channel < tagger.FirstDetectorChannel + profile.DetectorCount
            ? tagger.DetectorDelayPs(channel - tagger.FirstDetectorChannel) - tagger.SyncDelayPs
            : null;
        var peak = detector.Peak;
        var whole = detector.WholePeriods;
        double? delay = detector.DelayPs;
        // Every number through LabReport.Finite: a fit that gave no value (an uncertainty the centroid cannot give, no
        // click to place for the vacuum fractions) is null in the report, never NaN.
        return new DetectorDelayReport(channel, detector.Folded.Tags, LabReport.Finite(peak?.MaxBinCentrePs), LabReport.Finite(peak?.CentrePs),
            LabReport.Finite(peak?.CentreUncertaintyPs), LabReport.Finite(peak?.SigmaPs), LabReport.Finite(peak?.FwhmPs), LabReport.Finite(peak?.Amplitude),
            LabReport.Finite(peak?.Background), peak?.Method ?? "none", whole.Count, ResolvedBy(whole.ResolvedBy),
            LabReport.Finite(whole.VacuumClickFraction), LabReport.Finite(whole.VacuumClickFractionElsewhere),
            LabReport.Finite(delay), LabReport.Finite(peak?.CentreUncertaintyPs), truth, delay is double dl && truth is long t ? LabReport.Finite(dl - t) : null, plot);
    }

    /// <summary>The report's names for how the whole periods were found (the schema's enum).</summary>
    private static string ResolvedBy(WholePeriodsResolution resolution) => resolution switch
    {
        WholePeriodsResolution.AlicePattern => "alice-pattern",
        WholePeriodsResolution.ExpectedDelay => "expected-delay",
        _ => "none",
    };

    /// <summary>The folded histogram with the fitted Gaussian and the delay marked, saved as a PNG.</summary>
    private static string Plot(LabCapture capture, DetectorDelay detector, ushort syncChannel, double period, string outDirectory) =>
        PlotOf(detector, ChannelNames.Of(capture, detector.Channel), ChannelNames.Of(capture, syncChannel), period)
            .SavePng(Path.Combine(outDirectory, $"delay-channel-{detector.Channel}.png"));

    /// <summary>
    /// The plot of one detector's fold: the folded counts (log axis when they span decades, so the background shows), the
    /// fitted Gaussian over them with its centre and uncertainty in the legend, and the delay marked.
    /// </summary>
    public static LabPlot PlotOf(DetectorDelay detector, string channelName, string syncName, double period)
    {
        ArgumentNullException.ThrowIfNull(detector);
        var folded = detector.Folded;
        long w = folded.BinWidthPs;
        var edges = Enumerable.Range(0, folded.Counts.Length).Select(i => folded.WindowStartPs + i * (double)w).ToArray();
        var values = folded.Counts.Select(c => (double)c).ToArray();
        var lab = new LabPlot(string.Create(CultureInfo.InvariantCulture, $"Delay calibration: {channelName} vs {syncName} (folded onto the {period:F3} ps pulse period)"),
            "detector - sync - fibre delay, modulo the pulse period (ps)", $"tags per {w} ps bin")
            .Histogram(edges, values, w, $"{channelName}: {folded.Tags:N0} tags folded");
        if (LabPlot.SpansDecades(values)) lab.LogScale();
        if (detector.Peak is { } peak)
        {
            var xs = Enumerable.Range(0, 401).Select(i => peak.CentrePs - 5 * peak.SigmaPs + i * peak.SigmaPs / 40).ToArray();
            lab.Curve(xs, xs.Select(peak.Evaluate).ToArray(),
                $"Gaussian fit: centre {LabPlot.ValueWithUncertainty(peak.CentrePs, peak.CentreUncertaintyPs, "ps")}, " +
                $"sigma {LabPlot.ValueWithUncertainty(peak.SigmaPs, peak.SigmaUncertaintyPs, "ps")}");
            lab.Marker(peak.CentrePs, string.Create(CultureInfo.InvariantCulture,
                $"delay {LabPlot.ValueWithUncertainty(detector.DelayPs ?? double.NaN, peak.CentreUncertaintyPs, "ps")} ({detector.WholePeriods.Count} whole periods)"));
        }
        return lab;
    }
}
