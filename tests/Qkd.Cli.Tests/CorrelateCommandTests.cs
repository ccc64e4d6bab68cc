using Qkd.Cli.Commands;
using System.Text.Json;

namespace Qkd.Cli.Tests;

/// <summary>`qkd correlate`: thin data is refused with exit 6 and how much more is needed; light chosen by option.</summary>
public sealed class CorrelateCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-correlate").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact(Timeout = 120_000)]
    public async Task A_short_capture_is_refused_with_exit_6_and_a_conforming_report()
    {
        var (code, output, error) = await Cli.Run("correlate", "1", "3", "--emulator", "--pulses", "20000", "--out", _dir, "--json");

        Assert.Equal(LabExitCode.InsufficientData, code);
        Assert.Contains("refused", error);
        Assert.Contains("times as much data", error);
        using var report = JsonDocument.Parse(output);
        CalibrateSweepCommandTests.AssertMatchesSchema(report.RootElement, "correlation.schema.json");
        Assert.Equal(JsonValueKind.Null, report.RootElement.GetProperty("g2AtZero").ValueKind);
        Assert.Equal(JsonValueKind.String, report.RootElement.GetProperty("refusal").ValueKind);
    }

    [Fact(Timeout = 120_000)]
    public async Task Continuous_light_can_be_asked_for_and_unknown_light_is_a_usage_error()
    {
        var (code, output, error) = await Cli.Run("correlate", "1", "3", "--emulator", "--light", "continuous", "--pulses", "2000000", "--out", _dir);
        Assert.True(code == 0, error);
        Assert.Contains("continuous light", output);
        Assert.Contains("±", output);

        (code, _, error) = await Cli.Run("correlate", "1", "3", "--emulator", "--light", "laser", "--out", _dir);
        Assert.NotEqual(0, code);
        Assert.Contains("laser", error);
    }
}
