using Qkd.Emulation.TimeTagging;
using Qkd.Lab;

namespace Qkd.Lab.Tests;

/// <summary>Delay calibration against the emulator, whose cable delays are set here.</summary>
public sealed class DelayCalibrationTests : IDisposable
{
    private static readonly long[] TrueDelays = [1234, 2345, 3456, 4567];
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "qkd-delay-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static LabCapture Capture(ulong seed) => LabTagCapture.Capture(new LabCaptureOptions
    {
        Tagger = new EmulatedTimeTaggerOptions { DetectorDelaysPs = TrueDelays },
        Seed = seed,
        Pulses = 2_000_000,
    }, TestContext.Current.CancellationToken);

    [Fact]
    public void Calibrated_delays_are_within_one_bin_and_10_ps_after_the_fit_and_the_max_bin_is_near()
    {
        var capture = Capture(11);
        string config = Path.Combine(_dir, "delays.json");
        var result = DelayCalibration.Run(capture, capture.DelayOptions(binWidthPs: 10), _dir, config);

        Assert.Equal(4, result.Report.Detectors.Count);
        for (int d = 0; d < 4; d++)
        {
            var row = result.Report.Detectors[d];
            Assert.Equal("alice-pattern", row.WholePeriodsResolvedBy);
            Assert.Equal("gaussian", row.FitMethod);
            // The max bin alone wanders with the counts (5k-13k tags, sigma 41 ps over 10 ps bins: seen up to 17 ps off
            // across seeds), so it only has to be near; the fit has to be within one bin (10 ps): it is within ~2 ps.
            double wholePeriods = row.WholePeriods * result.Report.MeasuredPulsePeriodPs;
            Assert.InRange(wholePeriods + row.MaxBinCentrePs!.Value - TrueDelays[d], -30, 30);
            Assert.InRange(row.DelayPs!.Value - TrueDelays[d], -10, 10);
            Assert.Equal(TrueDelays[d], row.TrueDelayPs);
            // The jitter the profile sets (40 ps) plus the sync's (10 ps) is the peak's width.
            Assert.InRange(row.SigmaPs!.Value, 35, 50);
            Assert.True(row.VacuumClickFraction < row.VacuumClickFractionElsewhere / 5);
            LabTestFiles.AssertPng(row.Plot!);
        }

        var written = DelayConfiguration.Load(config);
        Assert.Equal(TrueDelays.Length, written.DetectorDelaysPs.Length);
        for (int d = 0; d < 4; d++) Assert.InRange(written.DetectorDelaysPs[d] - TrueDelays[d], -10, 10);
        // Fed back as the emulated tagger's wiring, the configuration reproduces the delays.
        var fedBack = written.ApplyTo(new EmulatedTimeTaggerOptions());
        Assert.Equal(written.DetectorDelaysPs, fedBack.DetectorDelaysPs);

        LabTestFiles.AssertConforms(LabReport.Serialize(result.Report), DelayCalibration.SchemaName);
    }

    [Fact]
    public void Without_alice_pattern_whole_periods_come_from_the_expected_delay()
    {
        var capture = Capture(12) with { Symbols = null };
        var options = capture.DelayOptions() with { ExpectedDelayPs = 2500 };
        var result = DelayCalibration.Run(capture, options);
        for (int d = 0; d < 4; d++)
        {
            var row = result.Report.Detectors[d];
            Assert.Equal("expected-delay", row.WholePeriodsResolvedBy);
            // Within half a period of 2500 ps the folded phase is unambiguous: 2345 and 2234-ish fit, others fold.
            Assert.InRange(row.DelayPs!.Value, 2000, 3000);
            double folded = ((TrueDelays[d] - row.DelayPs.Value) % 1000 + 1000) % 1000;
            Assert.True(folded < 10 || folded > 990, $"channel {row.Channel}: {row.DelayPs} is not {TrueDelays[d]} modulo the period");
        }
    }

    [Fact]
    public void Too_few_sync_tags_is_a_clear_error()
    {
        var capture = Capture(13);
        var e = Assert.Throws<ArgumentException>(() => DelayCalibration.Run(capture, capture.DelayOptions() with { SyncChannel = 9 }));
        Assert.Contains("sync channel 9", e.Message);
    }
}
