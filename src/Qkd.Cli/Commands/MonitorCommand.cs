using System.CommandLine;
using Qkd.Hardware.Devices;
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
        var distance = new Option<double>("--distance-km")
        {
            Description = "Fibre length, km: the emulated bench's, or a device bench's (what the detector delays are measured against; `qkd emulate` serves 10 km).",
            DefaultValueFactory = _ => 10,
        };
        var interval = new Option<int>("--interval-ms") { Description = "Refresh interval, ms.", DefaultValueFactory = _ => 500 };
        var json = new Option<bool>("--json") { Description = "No live view: print the JSON report at the end." };
        var output = new Option<DirectoryInfo>("--out") { Description = "Where the report and plot go.", DefaultValueFactory = _ => new DirectoryInfo("monitor") };
        var config = new Option<FileInfo?>("--config")
        {
            Description = "Set the gate and basis phases found by `qkd calibrate gate|alignment --write-config FILE` before monitoring.",
        };
        var command = new Command("monitor", "Live count rates per channel, sync rate, ring fill, drops and QBER.") { duration, distance, interval, config, json, output };
        source.AddTo(command);
        source.AddTimingTo(command);
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
            LinkProfile profile;
            try
            {
                profile = EmulatedBench.Profile(parse.GetValue(distance));
                profile.Validate();
            }
            catch (LinkProfileException e)
            {
                error.WriteLine($"error: --distance-km: {e.Message}");
                return Task.FromResult(1);
            }
            var settings = LinkSettings.Default;
            LinkRig rig;
            LabReceiverTiming timing;
            try
            {
                var calibration = parse.GetValue(config) is { } file ? DeviceCalibration.Load(file.FullName) : null;
                var delays = source.DelayFile(parse);
                rig = RigSource.Open(bench, profile, settings, 7, syncChannel: delays?.SyncChannel ?? 0);
                try
                {
                    calibration?.ApplyTo(rig.Modulator, rig.Detector);
                    timing = source.Timing(parse, delays, rig, profile, settings, 8, cancellationToken);
                }
                catch
                {
                    rig.Dispose();
                    throw;
                }
            }
            catch (Exception e) when (e is Protocol.DeviceException or IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
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
                    snapshots = LinkMonitor.Run(rig, profile, settings, timing, symbols, pulses, every, s =>
                    {
                        Render(table, s);
                        context.Refresh();
                    }, cancellationToken);
                });
            }
            else
                snapshots = LinkMonitor.Run(rig, profile, settings, timing, symbols, pulses, every, _ => { }, cancellationToken);

            var report = MonitorReport.Write(snapshots, parse.GetValue(output)!.FullName, timing, profile.FibreLengthKm);
            if (parse.GetValue(json)) writer.WriteLine(MonitorReport.ToJson(report));
            else if (snapshots.Count > 0)
            {
                var last = snapshots[^1];
                var full = snapshots.Count > 1 ? snapshots[^2] : last; // the final refresh may cover only a sliver of time
                writer.WriteLine($"Monitored {report.Seconds:F1} s: {last.Detections:N0} detections, sync {full.SyncRateHz / 1e3:F1} kHz, " +
                    $"QBER Z {Percent(last.QberZ, last.QberZUncertainty)} X {Percent(last.QberX, last.QberXUncertainty)}, " +
                    $"{Share(last.InGateFraction)} of detector tags in the gate, {last.Dropped} tags lost; timing {timing.Source}; plot {report.Plot}");
                if (last.InGateFraction is < 0.5)
                    error.WriteLine($"warning: only {Share(last.InGateFraction)} of the detector tags fell inside their pulse's gate: the receiver timing " +
                                    "does not match the devices (calibrate the delays, check --distance-km); the QBER above is not the link's.");
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
        table.AddRow("QBER", $"Z {Percent(s.QberZ, s.QberZUncertainty)}  X {Percent(s.QberX, s.QberXUncertainty)}", "");
        table.AddRow("in gate", Share(s.InGateFraction), "");
        table.AddRow("elapsed", $"{s.Elapsed.TotalSeconds:F1} s, {s.Detections:N0} detections", "");
    }

    /// <summary>A QBER as a percentage with its uncertainty; "n/a" before the first sifted bit of its basis.</summary>
    private static string Percent(double? qber, double? uncertainty) =>
        qber is double q ? uncertainty is double u ? $"{100 * q:F2} ± {100 * u:F2} %" : $"{100 * q:F2} %" : "n/a";

    private static string Share(double? fraction) => fraction is double f ? $"{100 * f:F1} %" : "n/a";
}
