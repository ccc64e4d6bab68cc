using System.Text.Json;
using Qkd.Monitoring;

namespace Qkd.Monitoring.Tests;

public sealed class MonitorOptionsTests
{
    [Theory]
    [InlineData("drift")]
    [InlineData("decision")]
    [InlineData("warmupBlocks")]
    [InlineData("baselineWeight")]
    [InlineData("clearBlocks")]
    [InlineData("lossNoiseDb")]
    [InlineData("qberNoise")]
    public void A_bad_value_gives_one_line_naming_the_setting(string setting)
    {
        var bad = setting switch
        {
            "drift" => new MonitorOptions { Drift = -1 },
            "decision" => new MonitorOptions { Decision = 0 },
            "warmupBlocks" => new MonitorOptions { WarmupBlocks = 0 },
            "baselineWeight" => new MonitorOptions { BaselineWeight = 1 },
            "clearBlocks" => new MonitorOptions { ClearBlocks = 0 },
            "lossNoiseDb" => new MonitorOptions { LossNoiseDb = double.NaN },
            _ => new MonitorOptions { QberNoise = -0.1 },
        };
        string problem = Assert.Single(bad.Problems());
        Assert.StartsWith($"monitor.{setting} ", problem);
        Assert.DoesNotContain('\n', problem);
        Assert.Throws<ArgumentException>(() => new LinkMonitor(bad));
    }

    [Fact]
    public void The_defaults_are_valid_and_hold_key_only_for_security_kinds()
    {
        Assert.Empty(MonitorOptions.Default.Problems());
        Assert.False(MonitorOptions.Default.ThreatensSecurity(AlarmKind.LossStep));
        Assert.True(new MonitorOptions { LossStopsKey = true }.ThreatensSecurity(AlarmKind.LossStep));
        Assert.True(MonitorOptions.Default.ThreatensSecurity(AlarmKind.Blinding));
        Assert.True(MonitorOptions.Default.ThreatensSecurity(AlarmKind.QberRise));
        Assert.False(MonitorOptions.Default.ThreatensSecurity(AlarmKind.BackgroundRise));
    }

    [Fact]
    public void The_events_json_has_string_kinds_and_no_NaN()
    {
        var link = new SyntheticLink(61) { BackgroundFactor = b => b >= 10 ? 0 : 1 };
        var monitor = new LinkMonitor();
        Scenario.Run(link, monitor, 14);
        string json = MonitorJson.Serialize(MonitorSnapshot.Of(monitor, "link-1", "bob"));
        Assert.Contains("\"kind\":\"Blinding\"", json);
        Assert.DoesNotContain("NaN", json);
        Assert.DoesNotContain("Infinity", json);
        using var document = JsonDocument.Parse(json);
        Assert.True(document.RootElement.GetProperty("keyHeld").GetBoolean());
        Assert.NotEmpty(document.RootElement.GetProperty("active").EnumerateArray());
        Assert.Equal("loss_step", MonitorMetrics.KindName(AlarmKind.LossStep));
    }
}
