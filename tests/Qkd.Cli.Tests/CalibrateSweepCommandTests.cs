using System.CommandLine;
using System.Text.Json;
using Qkd.Cli.Commands;

namespace Qkd.Cli.Tests;

/// <summary>`qkd calibrate gate|alignment` on the emulated bench: exit 0, the optimum it hides, a PNG, a report matching its schema.</summary>
public sealed class CalibrateSweepCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-calibrate").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Task<(int Code, string Output, string Error)> Run(params string[] args) => Cli.Run(args);

    /// <summary>The committed schema (shipped next to the binaries), checked structurally with the library's checker.</summary>
    internal static void AssertMatchesSchema(JsonElement report, string schemaFile)
    {
        using var schema = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "schemas", schemaFile)));
        var problems = Qkd.Lab.LabReportSchema.Check(report, schema.RootElement);
        Assert.True(problems.Count == 0, string.Join("; ", problems));
    }

    private static void AssertPng(string path)
    {
        Assert.True(File.Exists(path), path);
        byte[] bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 5_000, $"{path}: {bytes.Length} bytes");
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, bytes[..4]);
    }

    [Fact(Timeout = 120_000)]
    public async Task Gate_calibration_finds_the_bench_optimum_and_writes_plot_and_report()
    {
        var (code, output, error) = await Run("calibrate", "gate", "--emulator", "--from-ps", "29000", "--to-ps", "33000", "--step-ps", "500",
            "--pulses", "1000000", "--out", _dir, "--json");
        Assert.True(code == 0, error);
        using var report = JsonDocument.Parse(output);
        AssertMatchesSchema(report.RootElement, "gate-calibration.schema.json");
        double truth = CalibrateSweepCommands.EmulatorBench.LightArrivalPs!.Value - 500; // gate centred on the light
        Assert.InRange(report.RootElement.GetProperty("optimumGateDelayPs").GetInt64(), truth - 500, truth + 500);
        AssertPng(report.RootElement.GetProperty("plot").GetString()!);
    }

    [Fact(Timeout = 120_000)]
    public async Task Alignment_calibration_finds_the_bench_phase_and_writes_plot_and_report()
    {
        var (code, output, error) = await Run("calibrate", "alignment", "--emulator", "--basis", "Z", "--from-rad", "-0.2", "--to-rad", "1.4",
            "--step-rad", "0.2", "--pulses", "2000000", "--out", _dir, "--json");
        Assert.True(code == 0, error);
        using var report = JsonDocument.Parse(output);
        AssertMatchesSchema(report.RootElement, "alignment-calibration.schema.json");
        Assert.InRange(report.RootElement.GetProperty("optimumPhaseRadians").GetDouble(), 0.6 - 0.2, 0.6 + 0.2);
        AssertPng(report.RootElement.GetProperty("plot").GetString()!);
    }

    [Fact]
    public async Task Without_a_bench_the_command_refuses_and_writes_nothing()
    {
        var (code, _, error) = await Run("calibrate", "gate", "--out", _dir);
        Assert.Equal(1, code);
        Assert.Contains("--emulator", error);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir));
    }
}
