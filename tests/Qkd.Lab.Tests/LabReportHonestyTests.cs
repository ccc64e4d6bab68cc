using Qkd.Calibration;
using Qkd.Core.TimeTags;
using Qkd.Emulation;
using Qkd.Lab;

namespace Qkd.Lab.Tests;

/// <summary>
/// Reports hold no NaN or infinity (the writer refuses them, naming the field), every report kind validates against its
/// schema including the ones with values the analysis could not give, and a refused calibration writes nothing.
/// </summary>
public sealed class LabReportHonestyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-lab-honesty").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static DetectorDelayReport EmptyRow(ushort channel) => new(channel, 0, null, null, null, null, null, null, null, "none", 0, "none",
        null, null, null, null, null, null, null);

    private static DelayCalibrationReport DelayReport(double measuredPeriod, params DetectorDelayReport[] rows) => new(
        LabReport.SchemaPath(DelayCalibration.SchemaName), "test", "method", 0, 1024, 10, 1000, measuredPeriod, 0, 10, rows, null);

    [Fact]
    public void A_nan_or_infinity_is_refused_by_the_writer_naming_the_field()
    {
        var nan = Assert.Throws<InvalidOperationException>(() => LabReport.Serialize(DelayReport(double.NaN)));
        Assert.Contains("measuredPulsePeriodPs", nan.Message);
        Assert.Contains("NaN", nan.Message);

        var snapshot = new MonitorSnapshot(TimeSpan.FromSeconds(1), [1000, double.PositiveInfinity], 1000, 0, 16, 0, 0, null, null, 5);
        var infinity = Assert.Throws<InvalidOperationException>(() =>
            MonitorReport.ToJson(new MonitorReport.Report("monitor", 1, [snapshot], "p.png")));
        Assert.Contains("ratesHz", infinity.Message);
        Assert.Contains("Infinity", infinity.Message);
    }

    [Fact]
    public void A_value_the_analysis_could_not_give_is_null_and_the_report_conforms()
    {
        // A delay row without a fit (every fitted field null) next to a fitted one.
        var fitted = EmptyRow(2) with { FitMethod = "gaussian", DelayPs = 1234.5, DelayUncertaintyPs = 0.3, Tags = 5000, SigmaPs = 41 };
        string json = LabReport.Serialize(DelayReport(1000.0001, EmptyRow(1), fitted));
        Assert.DoesNotContain("NaN", json);
        LabTestFiles.AssertConforms(json, DelayCalibration.SchemaName);
        // Read back, as the configuration files are: numbers only, finite only.
        Assert.Contains("\"delayPs\": null", json);
    }

    [Fact]
    public void A_detector_report_without_afterpulse_decay_or_efficiency_conforms()
    {
        // No afterpulsing: the probability is consistent with zero and there is no decay to report (null).
        var random = new Random(2);
        var tags = new List<TimeTag>();
        double t = 1e6;
        for (int i = 0; i < 200_000; i++)
        {
            tags.Add(new TimeTag((long)t, 3));
            t += 20_000 - Math.Log(1 - random.NextDouble()) / 2e-7;
        }
        var calibration = new DetectorCalibration([3], 500, 10_000_000);
        calibration.Add(tags.ToArray());
        var channel = Assert.Single(calibration.Analyse((tags[^1].TimePs - tags[0].TimePs) / 1e12));
        var row = DetectorCalibrationOutput.Row(channel);
        Assert.Null(row.AfterpulseDecayPs);
        Assert.Equal(channel.Histogram.Gaps, row.Intervals);
        Assert.NotNull(row.DeadTimeUncertaintyPs);

        var report = new DetectorCalibrationReport("detector-calibration", "synthetic", 1, [row],
            new DetectorEfficiencyReport(null, null, 0.5, 0.1, 1000) { LightClicks = 10 }, []);
        LabTestFiles.AssertConforms(LabReport.Serialize(report), "detector-calibration");
        LabTestFiles.AssertConforms(LabReport.Serialize(report with { Efficiency = null }), "detector-calibration");
    }

    [Fact]
    public void A_monitor_report_with_nothing_sifted_has_no_qber_plot_and_conforms()
    {
        var snapshots = new[]
        {
            new MonitorSnapshot(TimeSpan.FromSeconds(0.5), [1e6, 2000, 1500], 1e6, 3, 1024, 0, 0, null, null, 0) { IntervalSeconds = 0.5 },
            new MonitorSnapshot(TimeSpan.FromSeconds(1.0), [1e6, 2100, 1400], 1e6, 5, 1024, 2, 1, null, null, 0) { IntervalSeconds = 0.5 },
        };
        var report = MonitorReport.Write(snapshots, _dir);
        Assert.Null(report.QberPlot);
        LabTestFiles.AssertPng(report.Plot);
        LabTestFiles.AssertConforms(File.ReadAllText(Path.Combine(_dir, "monitor.json")), "monitor");

        var sifted = snapshots.Select((s, i) => s with { QberZ = 0.02, QberX = i == 0 ? null : 0.03 } with { SiftedZ = 1000 * (i + 1), SiftedX = i * 800 }).ToArray();
        var withQber = MonitorReport.Write(sifted, _dir);
        LabTestFiles.AssertPng(withQber.QberPlot!);
        LabTestFiles.AssertConforms(MonitorReport.ToJson(withQber), "monitor");
    }

    [Fact]
    public void A_refused_delay_calibration_writes_no_plot_no_report_and_no_configuration()
    {
        // 10,000 km of fibre: a default capture folds a handful of tags per detector.
        var capture = LabTagCapture.Capture(new LabCaptureOptions { Profile = LinkProfile.Default.WithDistance(10_000), Pulses = 4_000_000 },
            TestContext.Current.CancellationToken);
        string config = Path.Combine(_dir, "delays.json");
        var refusal = Assert.Throws<InsufficientDataException>(() => DelayCalibration.Run(capture, capture.DelayOptions(), _dir, config));
        Assert.Equal(4, refusal.Shortfalls.Count);
        Assert.All(refusal.Shortfalls, s => Assert.True(s.Have < DataMinimums.DelayTagsPerChannel));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir));
    }

    [Fact]
    public void A_histogram_from_a_handful_of_pairs_is_refused_before_any_output()
    {
        var capture = LabTagCapture.Capture(new LabCaptureOptions { Profile = LinkProfile.Default.WithDistance(300), Pulses = 1_000_000 },
            TestContext.Current.CancellationToken);
        var refusal = Assert.Throws<InsufficientDataException>(() => TimeCorrelation.Run(capture, 0, 1, -2_000, 10_000, 20, normalise: false, _dir));
        Assert.Contains("peak of Z0 (ch 1) after sync (ch 0)", refusal.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir));
    }

    [Fact]
    public void A_supported_histogram_report_carries_its_peak_statistics_and_conforms()
    {
        var capture = LabTagCapture.Capture(new LabCaptureOptions { Pulses = 4_000_000 }, TestContext.Current.CancellationToken);
        var report = TimeCorrelation.Run(capture, 0, 1, -2_000, 10_000, 20, normalise: false, _dir);
        Assert.NotNull(report.PeakPs);
        Assert.True(report.PeakUncertaintyPs > 0);
        Assert.True(report.PeakCounts >= 25);
        LabTestFiles.AssertConforms(LabReport.Serialize(report), "time-correlation");
        LabTestFiles.AssertPng(report.Plot);
    }
}
