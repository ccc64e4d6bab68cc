using System.CommandLine;
using System.Text.Json;

namespace Qkd.Cli.Tests;

/// <summary>
/// The run report's performance section (issue 14): the real-time factor, every pipeline stage with its time and how it
/// was measured, and the ring's fill and drops, for an emulated run and for a replay. Correctness only: no figure is
/// asserted beyond being a sane number.
/// </summary>
public sealed class RunPerformanceReportTests : IDisposable
{
    private static readonly string[] Stages =
        ["acquisition", "clockRecovery", "sifting", "estimation", "errorCorrection", "verification", "privacyAmplification", "channel"];

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "qkd-cli-perf-" + Guid.NewGuid().ToString("N"));

    public RunPerformanceReportTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async Task<(int Code, string Output, string Error)> Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await QkdCommand.CreateRoot().Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error },
            TestContext.Current.CancellationToken);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task An_emulated_run_reports_the_real_time_factor_every_stage_and_the_ring()
    {
        string report = Path.Combine(_dir, "report.json");
        var (code, output, error) = await Run("run", "--emulator", "--duration-s", "0.2", "--block-size", "1048576",
            "--seed", "5", "--report", report, "--keys-dir", Path.Combine(_dir, "keys"), "--quiet");

        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(File.ReadAllText(report));
        AssertPerformance(json.RootElement, output);
    }

    [Fact]
    public async Task A_replay_reports_the_real_time_factor_every_stage_and_the_ring()
    {
        string recording = Path.Combine(_dir, "link.qtt");
        var (recorded, _, recordError) = await Run("record", "--emulator", "--duration-s", "0.2", "--out", recording);
        Assert.True(recorded == 0, recordError);
        string report = Path.Combine(_dir, "replay.json");
        var (code, output, error) = await Run("run", "--replay", recording, "--block-size", "1048576", "--seed", "5",
            "--report", report, "--keys-dir", Path.Combine(_dir, "keys"), "--quiet");

        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(File.ReadAllText(report));
        AssertPerformance(json.RootElement, output);
    }

    private static void AssertPerformance(JsonElement root, string output)
    {
        Assert.True(root.GetProperty("secretBits").GetInt64() > 0, "the run made no key: distillation stages did not all run");
        var performance = root.GetProperty("performance");
        double factor = performance.GetProperty("realTimeFactor").GetDouble();
        Assert.True(double.IsFinite(factor) && factor > 0, $"real-time factor {factor}");
        double linkSeconds = root.GetProperty("linkSeconds").GetDouble();
        double wallSeconds = root.GetProperty("wallClockSeconds").GetDouble();
        Assert.Equal(linkSeconds / wallSeconds, factor, 1e-9);
        var steady = performance.GetProperty("steadyStateRealTimeFactor");
        Assert.True(steady.ValueKind == JsonValueKind.Null || double.IsFinite(steady.GetDouble()) && steady.GetDouble() >= 0);

        var stages = performance.GetProperty("stages").EnumerateArray().ToList();
        Assert.Equal(Stages, stages.Select(s => s.GetProperty("stage").GetString()));
        foreach (var stage in stages)
        {
            double seconds = stage.GetProperty("seconds").GetDouble();
            Assert.True(double.IsFinite(seconds) && seconds >= 0, $"{stage.GetProperty("stage")}: {seconds} s");
            Assert.False(string.IsNullOrWhiteSpace(stage.GetProperty("measured").GetString()));
        }
        // A block was distilled: its steps ran, so their stages took some time.
        foreach (string ran in new[] { "clockRecovery", "sifting", "errorCorrection", "privacyAmplification", "channel" })
            Assert.True(stages.Single(s => s.GetProperty("stage").GetString() == ran).GetProperty("seconds").GetDouble() > 0, ran);

        int capacity = performance.GetProperty("ringCapacity").GetInt32();
        int highWater = performance.GetProperty("ringFillHighWater").GetInt32();
        Assert.True(capacity > 0);
        Assert.InRange(highWater, 0, capacity);
        Assert.Equal(root.GetProperty("receiver").GetProperty("acquisition").GetProperty("droppedByRing").GetInt64(),
            performance.GetProperty("ringDrops").GetInt64());

        Assert.Contains("real time", output);
        Assert.Contains("stage time (s)", output);
        Assert.Contains("privacyAmplification", output);
        Assert.Contains("ring                 high water", output);
    }
}
