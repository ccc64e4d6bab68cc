using System.Text.Json;

namespace Qkd.Cli.Tests;

/// <summary>
/// A recording cut in half or with a damaged chunk, through every command that reads recordings: refused with one
/// line naming the damage, or with --accept-damaged replayed over the time it covers, the damage in the summary and
/// the report. And a dark-count calibration that refuses a recording taken with the light on.
/// </summary>
public sealed class DamagedRecordingCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-damaged-cli").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private async Task<string> Record(string name, params string[] extra)
    {
        string file = Path.Combine(_dir, name);
        var (code, _, error) = await Cli.Run(["record", "--emulator", "--out", file, "--distance-km", "5", .. extra]);
        Assert.True(code == 0, error);
        return file;
    }

    private string Half(string file)
    {
        byte[] bytes = File.ReadAllBytes(file);
        string half = Path.Combine(_dir, "half.qtt");
        File.WriteAllBytes(half, bytes[..(bytes.Length / 2)]);
        return half;
    }

    [Fact(Timeout = 300_000)]
    public async Task A_replay_of_half_a_recording_is_an_error_naming_the_truncation_unless_accepted()
    {
        string full = await Record("link.qtt", "--duration-s", "0.1");
        string half = Half(full);
        string keys = Path.Combine(_dir, "keys");

        var (code, _, error) = await Cli.Run("run", "--replay", half, "--quiet", "--keys-dir", keys);

        Assert.Equal(1, code);
        string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line);
        Assert.Contains("truncated", line);
        Assert.Contains("--accept-damaged", line);
        Assert.False(Directory.Exists(keys), "a refused replay wrote key files");

        string wholeReport = Path.Combine(_dir, "whole.json"), halfReport = Path.Combine(_dir, "half.json");
        (code, _, error) = await Cli.Run("run", "--replay", full, "--quiet", "--keys-dir", keys, "--report", wholeReport);
        Assert.True(code is 0 or 2, error);
        string output;
        (code, output, error) = await Cli.Run("run", "--replay", half, "--quiet", "--keys-dir", keys, "--report", halfReport, "--accept-damaged");
        Assert.True(code is 0 or 2, error);
        Assert.Contains("truncated", error);
        Assert.Contains("RECORDING DAMAGED", output);

        using var whole = JsonDocument.Parse(File.ReadAllText(wholeReport));
        using var damaged = JsonDocument.Parse(File.ReadAllText(halfReport));
        Assert.True(whole.RootElement.GetProperty("recording").GetProperty("intact").GetBoolean());
        var recording = damaged.RootElement.GetProperty("recording");
        Assert.False(recording.GetProperty("intact").GetBoolean());
        Assert.True(recording.GetProperty("truncated").GetBoolean());
        Assert.True(recording.GetProperty("accepted").GetBoolean());
        Assert.Equal(0.1, recording.GetProperty("claimedSeconds").GetDouble(), 9);
        double covered = recording.GetProperty("coveredSeconds").GetDouble();
        Assert.InRange(covered, 0.04, 0.06);
        Assert.Equal(0.1 - covered, recording.GetProperty("lostSeconds").GetDouble(), 9);
        Assert.Contains(recording.GetProperty("damage").EnumerateArray(), d => d.GetProperty("kind").GetString() == "truncated");
        // Link time and gains are over the time covered: the signal gain is the whole file's, not half of it (within the
        // ~1 % the frame-sync pilot, never counted as detections, takes more of the shorter run).
        Assert.Equal(covered, damaged.RootElement.GetProperty("linkSeconds").GetDouble(), 6);
        double Gain(JsonDocument report) => report.RootElement.GetProperty("perIntensity").EnumerateArray()
            .Single(k => k.GetProperty("intensity").GetString() == "signal").GetProperty("gain").GetDouble();
        Assert.InRange(Gain(damaged) / Gain(whole), 0.97, 1.03);
    }

    [Fact(Timeout = 120_000)]
    public async Task The_lab_tools_refuse_a_damaged_recording_the_same_way_and_take_it_when_accepted()
    {
        string full = await Record("link.qtt", "--duration-s", "0.004");
        byte[] bytes = File.ReadAllBytes(full);
        bytes[bytes.Length / 3] ^= 0x21;
        string damaged = Path.Combine(_dir, "damaged.qtt");
        File.WriteAllBytes(damaged, bytes);
        string[] histogram = ["histogram", "--replay", damaged, "--start", "0", "--stop", "1", "--min-ps", "-2000", "--max-ps", "200000", "--bin-ps", "10", "--out", _dir, "--json"];

        var (code, _, error) = await Cli.Run(histogram);

        Assert.Equal(1, code);
        Assert.Contains("corrupt chunk", error);
        Assert.Contains("damaged recording", error);

        string output;
        (code, output, error) = await Cli.Run([.. histogram, "--accept-damaged"]);
        Assert.True(code == 0, error);
        Assert.Contains("warning: ", error);
        Assert.Contains("damage accepted", error);
        using var report = JsonDocument.Parse(output);
        Assert.Contains("corrupt chunk", report.RootElement.GetProperty("source").GetString());
    }

    [Fact(Timeout = 120_000)]
    public async Task A_dark_count_calibration_refuses_a_recording_taken_with_the_light_on()
    {
        string lit = await Record("lit.qtt", "--duration-s", "0.001");

        var (code, _, error) = await Cli.Run("calibrate", "detector", "--replay", lit, "--out", _dir);
        Assert.Equal(1, code);
        Assert.Contains("light was on", error);

        // Saying the light was off does not override a file that says it was on.
        (code, _, error) = await Cli.Run("calibrate", "detector", "--replay", lit, "--light-off-confirmed", "--out", _dir);
        Assert.Equal(1, code);
        Assert.Contains("light was on", error);
    }
}
