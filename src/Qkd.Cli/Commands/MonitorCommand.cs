using System.CommandLine;
using Qkd.Emulation;
using Qkd.Node.Devices;
using Qkd.Lab;
using Qkd.Node.Link;
using Spectre.Console;

namespace Qkd.Cli.Commands;

/// <summary>`qkd monitor`: live count rates, sync rate, ring fill, losses and QBER, refreshing in the terminal; Ctrl-C stops.</summary>
public static class MonitorCommand
{
    public static Command Create()
    {
        var source = new RigSource();
        var duration = new Option<double>("--duration-s") { Description = "Link time to emit, seconds (Ctrl-C stops earlier).", DefaultValueFactory = _ => 2.0 };
        var distance = new Option<double>("--distance-km") { Description = "Fibre length of the emulated link, km.", DefaultValueFactory = _ => 25 };
        var interval = new Option<int>("--interval-ms") { Description = "Refresh interval, ms.", DefaultValueFactory = _ => 500 };
        var json = new Option<bool>("--json") { Description = "No live view: print the JSON report at the end." };
        var output = new Option<DirectoryInfo>("--out") { Description = "Where the report and plot go.", DefaultValueFactory = _ => new DirectoryInfo("monitor") };
        var command = new Command("monitor", "Live count rates per channel, sync rate, ring fill, drops and QBER.") { duration, distance, interval, json, output };
        source.AddTo(command);
        command.SetAction((parse, cancellationToken) =>
        {
            TextWriter writer = parse.InvocationConfiguration.Output, error = parse.InvocationConfiguration.Error;
            var (bench, problem) = source.Choose(parse);
            if (problem is not null)
            {
                error.WriteLine($"error: {problem}");
                return Task.FromResult(1);
            }
            if (parse.GetValue(interval) is < 50 or > 60_000 || !(parse.GetValue(duration) is > 0 and <= 3600))
            {
                error.WriteLine("error: --interval-ms must lie in 50..60000 and --duration-s in (0, 3600].");
                return Task.FromResult(1);
            }
            var profile = LinkProfile.Default.WithDistance(parse.GetValue(distance));
            var settings = LinkSettings.Default;
            LinkRig rig;
            try
            {
                rig = RigSource.Open(bench, profile, settings, 7);
            }
            catch (Exception e) when (e is Protocol.DeviceException or IOException or UnauthorizedAccessException)
            {
                error.WriteLine($"error: {e.Message}");
                return Task.FromResult(1);
            }
            using var _ = rig;
            var symbols = EmulatedSetup.AliceSymbols(settings, 7);
            long pulses = (long)(settings.PulseRateHz * parse.GetValue(duration));
            var every = TimeSpan.FromMilliseconds(parse.GetValue(interval));
            bool live = !parse.GetValue(json) && !Console.IsOutputRedirected;
            IReadOnlyList<MonitorSnapshot> snapshots;
            if (live)
            {
                var table = new Table().Title("qkd monitor (Ctrl-C to stop)").AddColumns("channel", "rate", "");
                snapshots = [];
                AnsiConsole.Live(table).Start(context =>
                {
                    snapshots = LinkMonitor.Run(rig, profile, settings, symbols, pulses, every, s =>
                    {
                        Render(table, s);
                        context.Refresh();
                    }, cancellationToken);
                });
            }
            else
                snapshots = LinkMonitor.Run(rig, profile, settings, symbols, pulses, every, _ => { }, cancellationToken);

            var report = MonitorReport.Write(snapshots, parse.GetValue(output)!.FullName);
            if (parse.GetValue(json)) writer.WriteLine(MonitorReport.ToJson(report));
            else if (snapshots.Count > 0)
            {
                var last = snapshots[^1];
                var full = snapshots.Count > 1 ? snapshots[^2] : last; // the final refresh may cover only a sliver of time
                writer.WriteLine($"Monitored {report.Seconds:F1} s: {last.Detections:N0} detections, sync {full.SyncRateHz / 1e3:F1} kHz, " +
                    $"QBER Z {Percent(last.QberZ)} X {Percent(last.QberX)}, {last.Dropped} tags lost; plot {report.Plot}");
            }
            return Task.FromResult(0);
        });
        return command;
    }

    private static void Render(Table table, MonitorSnapshot s)
    {
        table.Rows.Clear();
        for (int c = 0; c < s.RatesHz.Count; c++)
        {
            if (s.RatesHz[c] <= 0) continue;
            table.AddRow(c == 0 ? "sync 0" : $"detector {c}", $"{s.RatesHz[c] / 1e3,10:F1} kHz", new string('#', (int)Math.Min(40, Math.Log10(1 + s.RatesHz[c]) * 5)));
        }
        table.AddRow("ring", $"{s.RingFill:N0} / {s.RingCapacity:N0}", "");
        table.AddRow("lost", $"{s.Dropped:N0} tags, {s.Overflows} overflows", "");
        table.AddRow("QBER", $"Z {Percent(s.QberZ)}  X {Percent(s.QberX)}", "");
        table.AddRow("elapsed", $"{s.Elapsed.TotalSeconds:F1} s, {s.Detections:N0} detections", "");
    }

    /// <summary>A QBER as a percentage; "n/a" before the first sifted bit of its basis.</summary>
    private static string Percent(double? qber) => qber is double q ? $"{100 * q:F2} %" : "n/a";
}
