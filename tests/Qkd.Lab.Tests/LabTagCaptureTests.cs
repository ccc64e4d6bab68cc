using Qkd.Core.TimeTags;
using Qkd.Emulation;
using Qkd.Emulation.TimeTagging;
using Qkd.Lab;

namespace Qkd.Lab.Tests;

public sealed class LabTagCaptureTests
{
    [Fact]
    public void Emulated_capture_gives_time_ordered_sync_and_detector_tags_and_its_truth()
    {
        var options = new LabCaptureOptions
        {
            Tagger = new EmulatedTimeTaggerOptions { DetectorDelaysPs = [1234, 2345, 3456, 4567] },
            Seed = 5,
            Pulses = 1_000_000,
        };
        var capture = LabTagCapture.Capture(options, TestContext.Current.CancellationToken);

        var tags = capture.Span;
        for (int i = 1; i < tags.Length; i++) Assert.True(tags[i].TimePs >= tags[i - 1].TimePs);
        // Sync tag k marks pulse k * 1024: ceil(1e6 / 1024) of them.
        Assert.Equal((1_000_000 + 1023) / 1024, capture.CountOn(0));
        for (ushort ch = 1; ch <= 4; ch++) Assert.True(capture.CountOn(ch) > 1000);
        Assert.Equal([1234L, 2345, 3456, 4567], capture.TaggerOptions!.DetectorDelaysPs);
        Assert.Equal(1_000_000, capture.TaggerOptions.EndPulse);
        Assert.Same(options.Profile, capture.Profile);
        Assert.NotNull(capture.Symbols);
    }

    [Fact]
    public void Bad_capture_options_are_refused_with_the_option_named()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => LabTagCapture.Capture(new LabCaptureOptions { Pulses = 0 }));
        Assert.Equal("Pulses", e.ParamName);
        var missing = Assert.Throws<ArgumentException>(() => LabTagCapture.Capture(new LabCaptureOptions { ReplayFile = "/nonexistent/x.qtt" }));
        Assert.Contains("x.qtt", missing.Message);
    }

    [Fact]
    public void Lab_plot_writes_a_png_with_the_marker()
    {
        string path = Path.Combine(Path.GetTempPath(), "qkd-lab-plot-" + Guid.NewGuid().ToString("N") + ".png");
        try
        {
            double[] edges = Enumerable.Range(0, 100).Select(i => i * 10.0).ToArray();
            double[] counts = edges.Select(x => 100 * Math.Exp(-(x - 500) * (x - 500) / (2 * 40.0 * 40))).ToArray();
            new LabPlot("test", "time (ps)", "counts per 10 ps bin").Histogram(edges, counts, 10).Marker(500, "centre 500 ps").SavePng(path);
            LabTestFiles.AssertPng(path);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
