using System.CommandLine;
using System.Text.Json;
using Qkd.Cli.Commands;
using Qkd.Node.Link;

namespace Qkd.Cli.Tests;

/// <summary>`qkd calibrate detector --emulator`: the bench detectors' truth within the tolerances, plots, schema.</summary>
public sealed class CalibrateDetectorCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-detector").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact(Timeout = 180_000)]
    public async Task Detector_calibration_recovers_dark_counts_dead_time_afterpulsing_and_efficiency()
    {
        var root = new RootCommand { new Command("calibrate") { CalibrateDetectorCommand.Create() } };
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await root.Parse(["calibrate", "detector", "--emulator", "--mu", "0.5", "--loss-db", "10", "--out", _dir, "--json"])
            .InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, TestContext.Current.CancellationToken);
        Assert.True(code == 0, error.ToString());
        using var report = JsonDocument.Parse(output.ToString());
        CalibrateSweepCommandTests.AssertMatchesSchema(report.RootElement, "detector-calibration.schema.json");
        var truth = EmulatedBench.DetectorProfile;
        double darkRate = truth.DarkCountProbabilityPerPulse * LinkSettings.Default.PulseRateHz;
        foreach (var channel in report.RootElement.GetProperty("channels").EnumerateArray())
        {
            Assert.InRange(channel.GetProperty("darkCountRateHz").GetDouble(), 0.9 * darkRate, 1.1 * darkRate);
            Assert.InRange(channel.GetProperty("deadTimePs").GetDouble(), 0.95 * truth.DeadTimePs, 1.05 * truth.DeadTimePs);
            Assert.InRange(channel.GetProperty("afterpulseProbability").GetDouble(), 0.8 * truth.AfterpulseProbability, 1.2 * truth.AfterpulseProbability);
        }
        Assert.InRange(report.RootElement.GetProperty("efficiency").GetProperty("efficiency").GetDouble(), 0.9 * truth.DetectorEfficiency, 1.1 * truth.DetectorEfficiency);
        foreach (var plot in report.RootElement.GetProperty("plots").EnumerateArray())
        {
            byte[] png = File.ReadAllBytes(plot.GetString()!);
            Assert.True(png.Length > 5_000);
            Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, png[..4]);
        }
    }

    [Fact]
    public async Task Efficiency_needs_both_mu_and_loss()
    {
        var root = new RootCommand { new Command("calibrate") { CalibrateDetectorCommand.Create() } };
        var error = new StringWriter();
        int code = await root.Parse(["calibrate", "detector", "--emulator", "--mu", "0.5", "--out", _dir])
            .InvokeAsync(new InvocationConfiguration { Output = new StringWriter(), Error = error }, TestContext.Current.CancellationToken);
        Assert.Equal(1, code);
        Assert.Contains("--loss-db", error.ToString());
    }
}
