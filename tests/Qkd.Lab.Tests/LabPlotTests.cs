using Qkd.Calibration;
using Qkd.Core;
using Qkd.Core.TimeTags;
using Qkd.Emulation;
using Qkd.Emulation.TimeTagging;
using Qkd.Lab;

namespace Qkd.Lab.Tests;

/// <summary>The plots as a lab book wants them, checked on the plot model (what is drawn), not on pixels.</summary>
public sealed class LabPlotTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-lab-plots").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void On_a_log_axis_an_empty_bin_is_a_gap_not_a_count_of_one()
    {
        var plot = new LabPlot("t", "x (ps)", "counts per 10 ps bin").LogScale().Histogram([0, 10, 20, 30, 40], [1000, 0, 10, 1, 0], 10);
        var segments = plot.HistogramSegments(plot.Series[0]);
        Assert.Equal(2, segments.Count); // [0,10) alone, then [20,40)
        Assert.Equal([3.0, 3.0], segments[0].Ys);
        Assert.Equal([1.0, 1.0, 0.0, 0.0], segments[1].Ys); // log10 10 and log10 1: the 1 is a real count
        Assert.Equal(6, segments.Sum(s => s.Xs.Length)); // three non-empty bins, two points each
        LabTestFiles.AssertPng(plot.SavePng(Path.Combine(_dir, "log.png")));
    }

    [Fact]
    public void Counts_spanning_more_than_two_decades_call_for_a_log_axis()
    {
        Assert.True(LabPlot.SpansDecades([0, 5, 1000]));
        Assert.False(LabPlot.SpansDecades([0, 10, 99]));
        Assert.False(LabPlot.SpansDecades([0, 0]));
    }

    [Fact]
    public void A_value_is_shown_with_its_uncertainty_to_two_significant_digits()
    {
        Assert.Equal("1233.81 ± 0.21 ps", LabPlot.ValueWithUncertainty(1233.8123, 0.2134, "ps"));
        Assert.Equal("0.0492 ± 0.0024", LabPlot.ValueWithUncertainty(0.04921, 0.00243, ""));
        Assert.Equal("50 ± 12 ns", LabPlot.ValueWithUncertainty(49.9, 12.3, "ns"));
        Assert.Equal("n/a", LabPlot.ValueWithUncertainty(double.NaN, 1, "ps"));
    }

    [Fact]
    public void Channels_are_named_by_their_role()
    {
        var tagger = new EmulatedTimeTaggerOptions();
        Assert.Equal("sync (ch 0)", ChannelNames.Of(tagger, null, 0));
        Assert.Equal(["Z0 (ch 1)", "Z1 (ch 2)", "X0 (ch 3)", "X1 (ch 4)"], Enumerable.Range(1, 4).Select(c => ChannelNames.Of(tagger, null, (ushort)c)));
        var active = LinkProfile.Default with { ReceiverLayout = ReceiverLayout.ActiveTwoDetector };
        Assert.Equal("bit 1 (ch 2)", ChannelNames.Of(tagger, active, 2));
        Assert.Equal("ch 3", ChannelNames.Of(tagger, active, 3));
        Assert.Equal("ch 1", ChannelNames.Of(null, null, 1));
    }

    [Fact]
    public void The_delay_plot_draws_the_fit_over_the_fold_with_its_centre_and_uncertainty_and_names_the_channels()
    {
        var capture = LabTagCapture.Capture(new LabCaptureOptions { Pulses = 2_000_000 }, TestContext.Current.CancellationToken);
        var options = capture.DelayOptions(binWidthPs: 10);
        var fit = DelayFit.Fit(capture.Span, options, pulse => capture.Symbols!.IntensityAt(pulse) == Intensity.Vacuum);
        var detector = fit.Detectors[0];
        var plot = DelayCalibration.PlotOf(detector, ChannelNames.Of(capture, detector.Channel), ChannelNames.Of(capture, 0), fit.PulsePeriodPs);

        Assert.Contains("Z0 (ch 1) vs sync (ch 0)", plot.Title);
        Assert.Equal("tags per 10 ps bin", plot.YLabel);
        var kinds = plot.Series.Select(s => s.Kind).ToList();
        // The data first, the fit drawn over it, then the delay marked.
        Assert.Equal([LabPlotSeriesKind.Histogram, LabPlotSeriesKind.Curve, LabPlotSeriesKind.Marker], kinds);
        var curve = plot.Series[1];
        Assert.Contains(LabPlot.ValueWithUncertainty(detector.Peak!.CentrePs, detector.Peak.CentreUncertaintyPs, "ps"), curve.Legend);
        Assert.Contains("±", plot.Series[2].Legend);
        // The peak spans decades over the dark-count floor: a log axis.
        Assert.True(plot.LogY);
        LabTestFiles.AssertPng(plot.SavePng(Path.Combine(_dir, "delay.png")));
    }

    [Fact]
    public void The_detector_plot_is_log_with_a_bin_width_label_the_fit_values_and_the_dead_time()
    {
        // A detector with dead time 20 ns and afterpulsing 8 % (tau 20 ns), 200,000 clicks.
        var random = new Random(1);
        var tags = new List<TimeTag>();
        double t = 1e6;
        for (int i = 0; i < 200_000; i++)
        {
            tags.Add(new TimeTag((long)t, 3));
            double gap = 20_000 - Math.Log(1 - random.NextDouble()) / 1e-7;
            if (random.NextDouble() < 0.08) gap = Math.Min(gap, 20_000 - Math.Log(1 - random.NextDouble()) * 20_000);
            t += gap;
        }
        var calibration = new DetectorCalibration([3], 500, 10_000_000);
        calibration.Add(tags.ToArray());
        var channel = calibration.Analyse((tags[^1].TimePs - tags[0].TimePs) / 1e12)[0];
        var plot = DetectorCalibrationOutput.PlotOf(channel, "Z0 (ch 3)");

        Assert.True(plot.LogY);
        Assert.Matches(@"^intervals per \d+ (ns|ps) bin$", plot.YLabel);
        var histogram = plot.Series.Single(s => s.Kind == LabPlotSeriesKind.Histogram);
        Assert.InRange(histogram.Xs.Length, DetectorCalibrationOutput.DisplayBins / 2, DetectorCalibrationOutput.DisplayBins * 2);
        // Rebinned counts keep every interval shown: none invented, none lost in the merge.
        Assert.Equal(channel.Histogram.Counts[..(histogram.Xs.Length * (int)Math.Round(histogram.BinWidth * 1e3 / 500))].ToArray().Sum(), histogram.Ys.Sum());
        var fit = plot.Series.Single(s => s.Kind == LabPlotSeriesKind.Curve);
        Assert.Contains("afterpulse p " + LabPlot.ValueWithUncertainty(channel.Afterpulses.Probability, channel.Afterpulses.ProbabilityUncertainty, ""), fit.Legend);
        Assert.Contains("tau", fit.Legend);
        var dead = plot.Series.Single(s => s.Kind == LabPlotSeriesKind.Marker);
        Assert.InRange(dead.Xs[0], 19.9, 20.3); // ns: the edge, located to a 0.5 ns bin
        Assert.Equal("dead time " + LabPlot.ValueWithUncertainty(dead.Xs[0], 0.5 / Math.Sqrt(12), "ns"), dead.Legend);
        LabTestFiles.AssertPng(plot.SavePng(Path.Combine(_dir, "detector.png")));
    }

    [Fact]
    public void Monitor_rates_carry_poisson_error_bars_and_role_names()
    {
        var snapshots = Enumerable.Range(1, 5).Select(i =>
            new MonitorSnapshot(TimeSpan.FromSeconds(i), [976_562, 4_000, 3_900, 0, 1_000], 976_562, 0, 1024, 0, 0, 0.02, 0.03, 100 * i)
            {
                IntervalSeconds = 0.25, SiftedZ = 500 * i, SiftedX = 400 * i,
                QberZUncertainty = Math.Sqrt(0.02 * 0.98 / (500 * i)), QberXUncertainty = Math.Sqrt(0.03 * 0.97 / (400 * i)),
            }).ToList();
        var plot = MonitorReport.RatePlot(snapshots, new EmulatedTimeTaggerOptions());
        Assert.Equal(["sync (ch 0)", "Z0 (ch 1)", "Z1 (ch 2)", "X1 (ch 4)"], plot.Series.Select(s => s.Legend)); // X0 silent: left out
        var z0 = plot.Series[1];
        Assert.Equal(LabPlotSeriesKind.Points, z0.Kind);
        // 4 kHz over 0.25 s is 1,000 counts: sigma sqrt(1000) / 0.25 s = 126 Hz, in kHz.
        Assert.All(z0.YErrors!, e => Assert.Equal(Math.Sqrt(1000) / 0.25 / 1e3, e, 6));

        var qber = MonitorReport.QberPlot(snapshots)!;
        var z = qber.Series[0];
        Assert.StartsWith("QBER Z", z.Legend);
        Assert.Equal(100 * Math.Sqrt(0.02 * 0.98 / 500), z.YErrors![0], 6);
        LabTestFiles.AssertPng(qber.SavePng(Path.Combine(_dir, "qber.png")));
    }
}
