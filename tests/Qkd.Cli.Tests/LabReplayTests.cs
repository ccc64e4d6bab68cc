using System.CommandLine;
using System.Text.Json;
using Qkd.Acquisition.Replay;
using Qkd.Cli.Commands;
using Qkd.Core.TimeTags;
using Qkd.Node.Link;

namespace Qkd.Cli.Tests;

/// <summary>
/// The lab commands over recordings (`--replay`), as an engineer uses them on a file taken earlier: `qkd record`, then
/// `qkd histogram` / `qkd correlate` / `qkd calibrate detector` on the file.
/// </summary>
public sealed class LabReplayTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-lab-replay").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Task<(int Code, string Output, string Error)> Run(params string[] args) => Cli.Run(args);

    private async Task<string> Record(string name, params string[] extra)
    {
        string file = Path.Combine(_dir, name);
        var (code, _, error) = await Run(["record", "--emulator", "--out", file, .. extra]);
        Assert.True(code == 0, error);
        return file;
    }

    private static TimeTag[] ReadFile(string file)
    {
        using var reader = TimeTagFileReader.Open(file);
        var all = new List<TimeTag>();
        var buffer = new TimeTag[4096];
        int n;
        while ((n = reader.Read(buffer)) > 0) all.AddRange(buffer.AsSpan(0, n));
        return all.ToArray();
    }

    [Fact(Timeout = 120_000)]
    public async Task A_replayed_histogram_counts_exactly_the_pairs_of_the_recorded_tags()
    {
        // Long enough for the comb's tallest tooth to stand 5 sigma clear (a shorter one is refused, exit 6: LabRefusalTests).
        string file = await Record("link.qtt", "--duration-s", "0.01");
        const long min = -2_000, max = 10_000, bin = 20;

        var (code, output, error) = await Run("histogram", "--replay", file, "--start", "0", "--stop", "1",
            "--min-ps", $"{min}", "--max-ps", $"{max}", "--bin-ps", $"{bin}", "--out", _dir, "--json");

        Assert.True(code == 0, error);
        using var report = JsonDocument.Parse(output);
        var root = report.RootElement;
        CalibrateSweepCommandTests.AssertMatchesSchema(root, "time-correlation.schema.json");
        Assert.Contains(file, root.GetProperty("source").GetString());
        // The same histogram, computed the slow way from the file itself: every (sync, detector-1) pair in range.
        var tags = ReadFile(file);
        long[] starts = tags.Where(t => t.IsEvent && t.Channel == 0).Select(t => t.TimePs).ToArray();
        long[] stops = tags.Where(t => t.IsEvent && t.Channel == 1).Select(t => t.TimePs).ToArray();
        var expected = new long[(max - min) / bin];
        foreach (long s in starts)
        {
            // Stops are in time order: from the first at or after s + min, every one before s + max.
            int first = Array.BinarySearch(stops, s + min);
            if (first < 0) first = ~first;
            while (first > 0 && stops[first - 1] >= s + min) first--;
            for (int i = first; i < stops.Length && stops[i] - s < max; i++) expected[(stops[i] - s - min) / bin]++;
        }
        Assert.True(expected.Sum() > 300, $"only {expected.Sum()} pairs: the recording is too short to test anything");
        Assert.Equal(expected.Sum(), root.GetProperty("pairs").GetInt64());
        Assert.Equal(expected, root.GetProperty("counts").EnumerateArray().Select(c => c.GetInt64()).ToArray());
        Assert.Equal(starts.Length, root.GetProperty("startTags").GetInt64());
        Assert.Equal(stops.Length, root.GetProperty("stopTags").GetInt64());
        LabCommandTests.AssertPng(root.GetProperty("plot").GetString()!);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_replayed_correlation_of_two_independent_detectors_is_flat()
    {
        string file = await Record("link.qtt", "--duration-s", "0.002");

        var (code, output, error) = await Run("correlate", "1", "3", "--replay", file, "--out", _dir, "--json");

        Assert.True(code == 0, error);
        using var report = JsonDocument.Parse(output);
        CalibrateSweepCommandTests.AssertMatchesSchema(report.RootElement, "correlation.schema.json");
        // The recording's metadata says pulsed light; g2(0) is the decoy modulation's <mu^2> / <mu>^2 (about 1.28).
        var root = report.RootElement;
        Assert.Equal("pulsed", root.GetProperty("light").GetString());
        double truth = (0.65 * 0.25 + 0.25 * 0.0225) / Math.Pow(0.65 * 0.5 + 0.25 * 0.15, 2);
        double g2 = root.GetProperty("g2AtZero").GetDouble(), sigma = root.GetProperty("g2Uncertainty").GetDouble();
        Assert.True(Math.Abs(g2 - truth) < 4 * sigma, $"g2(0) {g2} +- {sigma}, truth {truth:F3}");
        LabCommandTests.AssertPng(report.RootElement.GetProperty("plot").GetString()!);
    }

    [Fact(Timeout = 180_000)]
    public async Task Detector_calibration_of_a_light_blocked_recording_recovers_the_recorded_detectors()
    {
        // Noisy detectors (as on the emulated bench), recorded for 1 s with the shutter closed.
        var truth = EmulatedBench.DetectorProfile;
        string profile = Path.Combine(_dir, "detectors.json");
        File.WriteAllText(profile, truth.ToJson());
        string file = await Record("dark.qtt", "--profile", profile, "--shutter", "--duration-s", "1");

        var (code, output, error) = await Run("calibrate", "detector", "--replay", file, "--out", _dir, "--json");

        Assert.True(code == 0, error);
        using var report = JsonDocument.Parse(output);
        CalibrateSweepCommandTests.AssertMatchesSchema(report.RootElement, "detector-calibration.schema.json");
        double darkRate = truth.DarkCountProbabilityPerPulse * LinkSettings.Default.PulseRateHz;
        var channels = report.RootElement.GetProperty("channels").EnumerateArray().ToList();
        Assert.Equal(truth.DetectorCount, channels.Count);
        foreach (var channel in channels)
        {
            Assert.InRange(channel.GetProperty("darkCountRateHz").GetDouble(), 0.9 * darkRate, 1.1 * darkRate);
            Assert.InRange(channel.GetProperty("deadTimePs").GetDouble(), 0.95 * truth.DeadTimePs, 1.05 * truth.DeadTimePs);
            Assert.InRange(channel.GetProperty("afterpulseProbability").GetDouble(), 0.8 * truth.AfterpulseProbability, 1.2 * truth.AfterpulseProbability);
        }
    }

    [Fact]
    public async Task Efficiency_cannot_come_from_a_light_blocked_recording()
    {
        string file = await Record("short.qtt", "--duration-s", "0.0001");

        var (code, _, error) = await Run("calibrate", "detector", "--replay", file, "--mu", "0.5", "--loss-db", "10", "--out", _dir);

        Assert.Equal(1, code);
        Assert.Contains("light-blocked", error);
    }
}
