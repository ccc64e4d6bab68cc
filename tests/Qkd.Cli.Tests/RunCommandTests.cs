using System.CommandLine;
using System.Text.Json;

namespace Qkd.Cli.Tests;

public sealed class RunCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "qkd-cli-tests-" + Guid.NewGuid().ToString("N"));

    public RunCommandTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private async Task<(int Code, string Output, string Error)> Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await QkdCommand.CreateRoot().Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error },
            TestContext.Current.CancellationToken);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Emulated_run_prints_a_summary_and_writes_the_report()
    {
        string report = Path.Combine(_dir, "report.json");
        var (code, output, _) = await Run("run", "--emulator", "--duration-s", "0.1", "--block-size", "1048576",
            "--seed", "3", "--report", report, "--keys-dir", Path.Combine(_dir, "keys"), "--quiet");

        Assert.Equal(0, code);
        Assert.Contains("identical keys       yes", output);
        Assert.Contains("secret key", output);
        using var json = JsonDocument.Parse(File.ReadAllText(report));
        Assert.True(json.RootElement.GetProperty("secretBits").GetInt64() > 0);
        Assert.True(json.RootElement.GetProperty("identicalKeys").GetBoolean());
        Assert.Equal(3UL, json.RootElement.GetProperty("seed").GetUInt64());
        Assert.True(json.RootElement.GetProperty("seeded").GetBoolean());
        Assert.Contains("NOT secret", json.RootElement.GetProperty("warning").GetString());
        Assert.Contains("WARNING", output);
    }

    /// <summary>A short run (0.1 s of link time, 1 Mbit blocks: one block of key); its report and Alice's and Bob's key bytes.</summary>
    private async Task<(JsonElement Report, byte[] Alice, byte[] Bob, string Output, string Error)> ShortRun(string name, params string[] extra)
    {
        string report = Path.Combine(_dir, name + ".json");
        var (code, output, error) = await Run(["run", "--emulator", "--duration-s", "0.1", "--block-size", "1048576",
            "--report", report, "--keys-dir", Path.Combine(_dir, name), "--quiet", .. extra]);
        Assert.Equal(0, code);
        var root = JsonDocument.Parse(File.ReadAllText(report)).RootElement;
        var files = root.GetProperty("keyStores");
        return (root, KeyBytes(files.GetProperty("alice").GetString()!), KeyBytes(files.GetProperty("bob").GetString()!), output, error);
    }

    /// <summary>Every key file of one end, in name order, concatenated.</summary>
    private static byte[] KeyBytes(string directory) =>
        Directory.GetFiles(directory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).SelectMany(File.ReadAllBytes).ToArray();

    [Fact]
    public async Task Runs_without_a_seed_give_different_secret_keys_each_identical_at_both_ends()
    {
        var first = await ShortRun("secure-1");
        var second = await ShortRun("secure-2");
        foreach (var run in new[] { first, second })
        {
            Assert.True(run.Report.GetProperty("identicalKeys").GetBoolean());
            Assert.True(run.Report.GetProperty("secretBits").GetInt64() > 0);
            Assert.False(run.Report.GetProperty("seeded").GetBoolean());
            Assert.Equal(JsonValueKind.Null, run.Report.GetProperty("seed").ValueKind);
            Assert.NotEmpty(run.Alice);
            Assert.Equal(run.Alice, run.Bob);
            Assert.DoesNotContain("WARNING", run.Output);
            Assert.DoesNotContain("NOT secret", run.Error);
        }
        Assert.NotEqual(first.Alice, second.Alice);
    }

    [Fact]
    public async Task Runs_with_the_same_seed_give_the_same_key_and_say_it_is_not_secret()
    {
        var first = await ShortRun("seeded-1", "--seed", "11");
        var second = await ShortRun("seeded-2", "--seed", "11");
        foreach (var run in new[] { first, second })
        {
            Assert.True(run.Report.GetProperty("identicalKeys").GetBoolean());
            Assert.True(run.Report.GetProperty("seeded").GetBoolean());
            Assert.Equal(11UL, run.Report.GetProperty("seed").GetUInt64());
            Assert.Equal(run.Alice, run.Bob);
            Assert.Contains("WARNING", run.Output);
            Assert.Contains("NOT secret", run.Error);
        }
        Assert.NotEmpty(first.Alice);
        Assert.Equal(first.Alice, second.Alice);
    }

    [Fact]
    public async Task Missing_profile_file_is_a_clear_error_and_nothing_runs()
    {
        string keys = Path.Combine(_dir, "keys");
        var (code, _, error) = await Run("run", "--emulator", "--profile", Path.Combine(_dir, "nope.json"), "--keys-dir", keys);
        Assert.Equal(1, code);
        Assert.Contains("nope.json", error);
        Assert.False(Directory.Exists(keys));
    }

    [Fact]
    public async Task Invalid_profile_value_names_the_field()
    {
        string profile = Path.Combine(_dir, "bad.json");
        File.WriteAllText(profile, """{ "fibreLengthKm": -3 }""");
        var (code, _, error) = await Run("run", "--emulator", "--profile", profile, "--keys-dir", Path.Combine(_dir, "keys"));
        Assert.Equal(1, code);
        Assert.Contains("fibreLengthKm", error);
    }

    [Theory]
    [InlineData("--duration-s", "-1", "Duration")]
    [InlineData("--eavesdropper", "teleport:1", "teleport")]
    public async Task Bad_options_are_rejected_with_a_message(string option, string value, string expected)
    {
        var (code, _, error) = await Run("run", "--emulator", option, value, "--keys-dir", Path.Combine(_dir, "keys"));
        Assert.Equal(1, code);
        Assert.Contains(expected, error);
    }

    [Fact]
    public async Task Without_emulator_the_command_says_what_is_missing()
    {
        var (code, _, error) = await Run("run");
        Assert.Equal(1, code);
        Assert.Contains("--emulator", error);
    }
}
