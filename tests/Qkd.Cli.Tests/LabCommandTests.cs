using System.CommandLine;
using System.Text.Json;
using Qkd.Cli.Commands;

namespace Qkd.Cli.Tests;

/// <summary>`qkd calibrate delays`, `qkd histogram`, `qkd correlate` on the emulated bench: results, plots, reports.</summary>
public sealed class LabCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-lab").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Task<(int Code, string Output, string Error)> Run(params string[] args) => Cli.Run(args);

    internal static void AssertPng(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 5_000, $"{path}: {bytes.Length} bytes");
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, bytes[..4]);
    }

    [Fact(Timeout = 120_000)]
    public async Task Delay_calibration_finds_the_bench_delays_within_10_ps_and_writes_the_configuration()
    {
        string config = Path.Combine(_dir, "delays.json");
        var (code, output, error) = await Run("calibrate", "delays", "--emulator", "--out", _dir, "--write-config", config, "--json");
        Assert.True(code == 0, error);
        using var report = JsonDocument.Parse(output);
        CalibrateSweepCommandTests.AssertMatchesSchema(report.RootElement, "delay-calibration.schema.json");
        var detectors = report.RootElement.GetProperty("detectors").EnumerateArray().ToList();
        Assert.Equal(4, detectors.Count);
        for (int d = 0; d < 4; d++)
        {
            Assert.InRange(detectors[d].GetProperty("delayPs").GetDouble(), EmulatedBench.DetectorDelaysPs[d] - 10, EmulatedBench.DetectorDelaysPs[d] + 10);
            AssertPng(detectors[d].GetProperty("plot").GetString()!);
        }
        Assert.True(File.Exists(config));
    }

    [Fact(Timeout = 120_000)]
    public async Task Histogram_and_correlation_report_plot_and_match_their_schema()
    {
        var (code, output, error) = await Run("histogram", "--emulator", "--start", "0", "--stop", "1", "--out", _dir, "--json");
        Assert.True(code == 0, error);
        using (var report = JsonDocument.Parse(output))
        {
            CalibrateSweepCommandTests.AssertMatchesSchema(report.RootElement, "time-correlation.schema.json");
            var root = report.RootElement;
            long inBins = root.GetProperty("counts").EnumerateArray().Sum(c => c.GetInt64());
            Assert.Equal(root.GetProperty("pairs").GetInt64(), inBins); // every pair in range lands in one bin
            AssertPng(root.GetProperty("plot").GetString()!);
        }

        (code, output, error) = await Run("correlate", "1", "3", "--emulator", "--pulses", "2000000", "--out", _dir, "--json");
        Assert.True(code == 0, error);
        using (var report = JsonDocument.Parse(output))
        {
            CalibrateSweepCommandTests.AssertMatchesSchema(report.RootElement, "correlation.schema.json");
            var root = report.RootElement;
            Assert.Equal("pulsed", root.GetProperty("light").GetString());
            // Decoy-state intensity modulation bunches the pulses classically: g2(0) = <mu^2> / <mu>^2 (about 1.28) between
            // two detectors, found at their delay difference (2222 ps, beyond half a period).
            double signal = 0.5, decoy = 0.15, pSignal = 0.65, pDecoy = 0.25;
            double truth = (pSignal * signal * signal + pDecoy * decoy * decoy) / Math.Pow(pSignal * signal + pDecoy * decoy, 2);
            double g2 = root.GetProperty("g2AtZero").GetDouble(), sigma = root.GetProperty("g2Uncertainty").GetDouble();
            Assert.True(Math.Abs(g2 - truth) < 4 * sigma, $"g2(0) {g2} +- {sigma}, truth {truth:F3}");
            Assert.InRange(root.GetProperty("zeroDelayPs").GetDouble(), 2222 - 50, 2222 + 50);
            AssertPng(root.GetProperty("plot").GetString()!);
        }
    }

    [Fact]
    public async Task Two_sources_at_once_is_a_clear_error()
    {
        var (code, _, error) = await Run("histogram", "--emulator", "--replay", Path.Combine(_dir, "none.qtt"));
        Assert.Equal(1, code);
        Assert.Contains("exactly one source", error);
    }
}
