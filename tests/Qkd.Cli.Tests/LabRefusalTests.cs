using Qkd.Cli.Commands;

namespace Qkd.Cli.Tests;

/// <summary>Thin data through the commands: a distinct exit code, one line saying what more is needed, nothing written.</summary>
public sealed class LabRefusalTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-refusal").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static void AssertOneRefusalLine(string error)
    {
        string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("refused: not enough data: ", line);
        Assert.Contains("needed", line);
    }

    [Fact(Timeout = 120_000)]
    public async Task Delays_at_10000_km_are_refused_with_the_pulses_that_would_do()
    {
        string config = Path.Combine(_dir, "delays.json");
        var (code, output, error) = await Cli.Run("calibrate", "delays", "--emulator", "--distance-km", "10000", "--out", _dir, "--write-config", config, "--json");
        Assert.Equal(LabExitCode.InsufficientData, code);
        AssertOneRefusalLine(error);
        Assert.Contains("delay of channel", error);
        Assert.Matches(@"try --pulses \d+", error);
        Assert.Equal("", output);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_histogram_without_pairs_is_refused()
    {
        var (code, _, error) = await Cli.Run("histogram", "--emulator", "--distance-km", "10000", "--out", _dir);
        Assert.Equal(LabExitCode.InsufficientData, code);
        AssertOneRefusalLine(error);
        Assert.Contains("peak of Z0 (ch 1) after sync (ch 0)", error);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_short_detector_capture_is_refused_per_estimate()
    {
        var (code, _, error) = await Cli.Run("calibrate", "detector", "--emulator", "--pulses", "10000000", "--out", _dir);
        Assert.Equal(LabExitCode.InsufficientData, code);
        AssertOneRefusalLine(error);
        Assert.Contains("afterpulsing of channel", error);
        Assert.Matches(@"try --pulses \d+", error);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir));
    }
}
