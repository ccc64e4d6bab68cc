using Qkd.Lab;

namespace Qkd.Cli.Tests;

/// <summary>`qkd drill`: the JSON report on stdout, exit 0 only when every attack run is caught, 7 otherwise, 1 on bad input.</summary>
public sealed class DrillCommandTests
{
    private static string Schema() => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "schemas", "drill.schema.json"));

    [Fact]
    public async Task Blocked_light_is_caught_and_the_json_report_matches_its_schema()
    {
        var (code, output, error) = await Cli.Run("drill", "--attack", "denial of service", "--distance-km", "50", "--seed", "5", "--json");
        Assert.True(code == 0, error);
        Assert.Empty(LabReportSchema.Check(output, Schema()));
        Assert.Contains("\"attack\": \"denial of service\"", output);
        Assert.Contains("\"allCaught\": true", output);
    }

    [Fact]
    public async Task A_tap_the_distiller_cannot_see_is_caught_by_the_link_monitor()
    {
        var (code, output, error) = await Cli.Run("drill", "--attack", "fibre tap", "--distance-km", "50", "--seed", "5", "--json");
        Assert.True(code == 0, error);
        Assert.Empty(LabReportSchema.Check(output, Schema()));
        Assert.Contains("\"attack\": \"fibre tap\"", output);
        Assert.Contains("\"allCaught\": true", output);
        Assert.Contains("link monitor", output);
    }

    [Fact]
    public async Task Bad_input_is_refused_naming_the_option()
    {
        var (code, _, error) = await Cli.Run("drill", "--attack", "smoke signals");
        Assert.Equal(1, code);
        Assert.Contains("--attack", error);
        (code, _, error) = await Cli.Run("drill", "--distance-km", "-3");
        Assert.Equal(1, code);
        Assert.Contains("--distance-km", error);
        var (_, help, _) = await Cli.Run("run", "--help");
        Assert.Contains("blinding", help);
    }
}
