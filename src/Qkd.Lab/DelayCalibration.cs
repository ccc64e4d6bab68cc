using System.Globalization;
using Qkd.Core;
using Qkd.Core.TimeTags;
using Qkd.Calibration;

namespace Qkd.Lab;

/// <summary>
/// Finds each detector channel's delay relative to the sync channel.
/// </summary>
/// <remarks>
/// <para>Why folding. The sync comes once per <c>SyncDivider</c> (1024) pulses and the pulses are 1 ns apart, so a
/// detector tag minus its preceding sync tag is a comb of 1024 peaks, one per pulse slot, whose phase is the delay.
/// Folding that difference onto the pulse period (after subtracting the known light path, the fibre) stacks every
/// slot onto one sharp peak of the detector jitter's width. The period is measured from the sync tags themselves
/// (first to last sync over the pulses between), so clock drift does not smear the fold, and the fibre delay is
/// scaled by the same clock rate (the report's pathDelayPs is that scaled value, on Bob's clock).</para>
/// <para>Two passes: a coarse fold onto [0, T) finds the max bin; the tags are folded again into a window of one period
/// centred there (so a peak near 0 or T is never split) and <see cref="PeakFit"/> gives the sub-bin phase f.</para>
/// <para>Whole periods. Folding leaves delay = q*T + f with q unknown. When Alice's pulse pattern is known (emulator,
/// or a recording with its seed), q is the shift under which the fewest clicks fall on vacuum pulses (a vacuum pulse
/// only gives dark counts): "alice-pattern". Otherwise q puts the delay closest to <c>ExpectedDelayPs</c> (cable
/// lengths): "expected-delay".</para>
/// <para>Result: delay = q*T + f, ps, the detector input's delay minus the sync input's delay.</para>
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
        var tags = capture.Span;
        long syncs = 0, firstSync = 0, lastSync = 0;
        foreach (ref readonly var tag in tags)
        {
            if (tag.Channel != options.SyncChannel || !tag.IsEvent) continue;
            if (syncs == 0) firstSync = tag.TimePs;
            lastSync = tag.TimePs;
            syncs++;
        }
        if (syncs < 2)
            throw new ArgumentException($"{capture.Source}: {syncs} tags on sync channel {options.SyncChannel}; at least two are needed to measure the pulse period.");
        double period = (double)(lastSync - firstSync) / ((syncs - 1) * (double)options.SyncDivider);
        if (Math.Abs(period / options.PulsePeriodPs - 1) > 0.01)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The sync tags give a pulse period of {period:F3} ps, not the nominal {options.PulsePeriodPs} ps: check the sync channel and divider."));
        // The fibre delay is a length of light time; Bob's clock counts it at its own rate, as it counts the period
        // (5 ppm of 122 us of fibre is 612 ps: far more than a bin).
        options = options with { PathDelayPs = options.PathDelayPs * period / options.PulsePeriodPs };

        var histograms = new List<DetectorHistogram>();
        var detectors = new List<DetectorDelayReport>();
        var delays = new long[options.DetectorChannels.Length];
        for (int d = 0; d < options.DetectorChannels.Length; d++)
        {
            ushort channel = options.DetectorChannels[d];
            var (histogram, row) = Calibrate(capture, options, channel, period, d, outDirectory);
            histograms.Add(histogram);
            detectors.Add(row);
            delays[d] = row.DelayPs is double delay ? (long)Math.Round(delay) : 0;
        }
        var configuration = new DelayConfiguration(options.SyncChannel, options.DetectorChannels.ToArray(), delays);
        if (configurationFile is not null) configuration.Save(configurationFile);
        var report = new DelayCalibrationReport(LabReport.SchemaPath(SchemaName), capture.Source,
            "detector tag minus preceding sync tag minus the fibre delay, folded onto the pulse period measured from the sync tags; " +
            "Gaussian fit of the folded peak; whole periods from Alice's vacuum pulses when her pattern is known",
            options.SyncChannel, options.SyncDivider, syncs, options.PulsePeriodPs, period, options.PathDelayPs, options.BinWidthPs,
            detectors, configurationFile);
        return new Result(report, configuration, histograms);
    }

    private static (DetectorHistogram, DetectorDelayReport) Calibrate(LabCapture capture, DelayCalibrationOptions options, ushort channel,
        double period, int index, string? outDirectory)
    {
        long w = options.BinWidthPs;
        int bins = (int)Math.Ceiling(period / w);
        // Pass 1: coarse fold onto [0, T).
        var coarse = new long[bins];
        long tagCount = Fold(capture.Span, options, channel, period, 0, coarse, w);
        int max = 0;
        for (int i = 1; i < bins; i++) if (coarse[i] > coarse[max]) max = i;
        // Pass 2: fold into one period centred on the coarse peak, then fit.
        double windowStart = (max + 0.5) * w - period / 2;
        var fine = new long[bins];
        Fold(capture.Span, options, channel, period, windowStart, fine, w);
        var peak = tagCount == 0 ? null : PeakFit.Fit(fine, windowStart + w / 2.0, w);

        long? truth = capture.TruthKnown && capture.TaggerOptions is { } tagger && capture.Profile is { } profile
            && channel >= tagger.FirstDetectorChannel && channel < tagger.FirstDetectorChannel + profile.DetectorCount
            ? tagger.DetectorDelayPs(channel - tagger.FirstDetectorChannel) - tagger.SyncDelayPs
            : null;
        long q = 0;
        string resolvedBy = "none";
        double? vacuumAt = null, vacuumElsewhere = null;
        double? delay = null;
        if (peak is not null)
        {
            double f = peak.CentrePs;
            if (capture.Symbols is { } symbols)
            {
                (q, vacuumAt, vacuumElsewhere) = ResolveWholePeriods(capture.Span, options, channel, period, f, Math.Max(peak.SigmaPs, w), symbols);
                resolvedBy = "alice-pattern";
            }
            else
            {
                q = (long)Math.Round((options.ExpectedDelayPs - f) / period);
                resolvedBy = "expected-delay";
            }
            delay = q * period + f;
        }
        string? plot = null;
        if (outDirectory is not null)
        {
            var edges = Enumerable.Range(0, bins).Select(i => windowStart + i * (double)w).ToArray();
            var values = fine.Select(c => (double)c).ToArray();
            var lab = new LabPlot($"Delay calibration: channel {channel} vs sync channel {options.SyncChannel} (folded onto the {period:F3} ps pulse period)",
                "detector - sync - fibre delay, modulo the pulse period (ps)", $"tags per {w} ps bin").Histogram(edges, values, w, "tags");
            if (peak is not null)
            {
                var xs = Enumerable.Range(0, 400).Select(i => peak.CentrePs - 5 * peak.SigmaPs + i * peak.SigmaPs / 40).ToArray();
                lab.Curve(xs, xs.Select(peak.Evaluate).ToArray(), string.Create(CultureInfo.InvariantCulture, $"Gaussian fit, sigma {peak.SigmaPs:F1} ps"));
                lab.Marker(peak.CentrePs, string.Create(CultureInfo.InvariantCulture,
                    $"fit {peak.CentrePs:F1} ± {peak.CentreUncertaintyPs:F1} ps -> delay {delay:F1} ps ({q} whole periods)"));
            }
            plot = lab.SavePng(Path.Combine(outDirectory, $"delay-channel-{channel}.png"));
        }
        var histogram = new DetectorHistogram(channel, windowStart + w / 2.0, w, fine, peak);
        var row = new DetectorDelayReport(channel, tagCount, peak?.MaxBinCentrePs, peak?.CentrePs, Finite(peak?.CentreUncertaintyPs),
            peak?.SigmaPs, peak?.FwhmPs, peak?.Amplitude, peak?.Background, peak?.Method ?? "none", q, resolvedBy, vacuumAt, vacuumElsewhere,
            delay, Finite(peak?.CentreUncertaintyPs), truth, delay is double dl && truth is long t ? dl - t : null, plot);
        _ = index;
        return (histogram, row);
    }

    /// <summary>Folds (tag - preceding sync - path) into [start, start + T) and counts it; returns the tags folded.</summary>
    private static long Fold(ReadOnlySpan<TimeTag> tags, DelayCalibrationOptions options, ushort channel, double period, double start,
        long[] counts, long w)
    {
        long lastSync = long.MinValue, folded = 0;
        foreach (ref readonly var tag in tags)
        {
            if (!tag.IsEvent) continue;
            if (tag.Channel == options.SyncChannel) { lastSync = tag.TimePs; continue; }
            if (tag.Channel != channel || lastSync == long.MinValue) continue;
            double x = tag.TimePs - lastSync - options.PathDelayPs - start;
            double phase = x - Math.Floor(x / period) * period;
            int bin = (int)(phase / w);
            if (bin >= counts.Length) bin = counts.Length - 1;
            counts[bin]++;
            folded++;
        }
        return folded;
    }

    /// <summary>
    /// Whole periods q: under the right q each in-peak click sits on the pulse that caused it, and vacuum pulses give
    /// (almost) no clicks. Returns q, the vacuum-click fraction under it and the median fraction under the other shifts.
    /// </summary>
    private static (long Q, double At, double Elsewhere) ResolveWholePeriods(ReadOnlySpan<TimeTag> tags, DelayCalibrationOptions options,
        ushort channel, double period, double f, double sigma, Core.Symbols.SeededSymbolSource symbols)
    {
        int m = options.MaxWholePeriods;
        var vacuum = new long[2 * m + 1];
        var total = new long[2 * m + 1];
        long lastSync = long.MinValue, syncIndex = -1;
        foreach (ref readonly var tag in tags)
        {
            if (!tag.IsEvent) continue;
            if (tag.Channel == options.SyncChannel) { lastSync = tag.TimePs; syncIndex++; continue; }
            if (tag.Channel != channel || lastSync == long.MinValue) continue;
            double x = tag.TimePs - lastSync - options.PathDelayPs - f;
            long slot = (long)Math.Round(x / period);
            if (Math.Abs(x - slot * period) > 3 * sigma) continue; // off the peak: dark counts, afterpulses
            long basePulse = syncIndex * options.SyncDivider + slot;
            for (int q = -m; q <= m; q++)
            {
                long pulse = basePulse - q;
                if (pulse < 0) continue;
                total[q + m]++;
                if (symbols.IntensityAt(pulse) == Intensity.Vacuum) vacuum[q + m]++;
            }
        }
        var fractions = Enumerable.Range(0, 2 * m + 1).Select(i => total[i] > 0 ? (double)vacuum[i] / total[i] : double.NaN).ToArray();
        int best = -1;
        for (int i = 0; i < fractions.Length; i++)
            if (!double.IsNaN(fractions[i]) && (best < 0 || fractions[i] < fractions[best])) best = i;
        if (best < 0) return (0, double.NaN, double.NaN);
        var others = fractions.Where((v, i) => i != best && !double.IsNaN(v)).Order().ToArray();
        return (best - m, fractions[best], others.Length == 0 ? double.NaN : others[others.Length / 2]);
    }

    private static double? Finite(double? value) => value is double v && double.IsFinite(v) ? v : null;
}
