using System.CommandLine;
using System.Text.Json;
using Qkd.Cli.Commands;

namespace Qkd.Cli.Tests;

/// <summary>`qkd monitor --json` on the emulated link: physical rates, the link's QBER, a plot.</summary>
public sealed class MonitorCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-monitor").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact(Timeout = 120_000)]
    public async Task Monitor_reports_sync_rate_detector_rates_and_qber_and_plots_them()
    {
        var root = new RootCommand { MonitorCommand.Create() };
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await root.Parse(["monitor", "--emulator", "--duration-s", "0.3", "--interval-ms", "100", "--json", "--out", _dir])
            .InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, TestContext.Current.CancellationToken);
        Assert.True(code == 0, error.ToString());
        using var report = JsonDocument.Parse(output.ToString());
        var snapshots = report.RootElement.GetProperty("snapshots").EnumerateArray().ToList();
        Assert.NotEmpty(snapshots);
        var last = snapshots[^1];
        // Alice's 1 GHz clock divided by 1024 reaches the sync input: 976.6 kHz of link time.
        Assert.InRange(last.GetProperty("syncRateHz").GetDouble(), 0.95e6, 1.0e6);
        Assert.True(last.GetProperty("ratesHz")[1].GetDouble() > 1e6); // detector 1 at 25 km: a few MHz
        Assert.InRange(last.GetProperty("qberZ").GetDouble(), 0.005, 0.04);
        Assert.Equal(0, last.GetProperty("dropped").GetInt64());
        string png = report.RootElement.GetProperty("plot").GetString()!;
        Assert.True(new FileInfo(png).Length > 5_000);
    }

    [Fact]
    public async Task Bad_interval_is_refused()
    {
        var root = new RootCommand { MonitorCommand.Create() };
        var error = new StringWriter();
        int code = await root.Parse(["monitor", "--emulator", "--interval-ms", "1"])
            .InvokeAsync(new InvocationConfiguration { Output = new StringWriter(), Error = error }, TestContext.Current.CancellationToken);
        Assert.Equal(1, code);
        Assert.Contains("--interval-ms", error.ToString());
    }
}
