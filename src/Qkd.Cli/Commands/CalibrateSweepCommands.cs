using System.CommandLine;
using Qkd.Core;
using Qkd.Emulation;
using Qkd.Emulation.Firmware;
using Qkd.Node.Devices;
using Qkd.Lab;
using Qkd.Node.Link;

namespace Qkd.Cli.Commands;

/// <summary>`qkd calibrate gate` and `qkd calibrate alignment`: sweeps over the devices, with report and plot.</summary>
public static class CalibrateSweepCommands
{
    /// <summary>
    /// The emulator's bench: where its light arrives in the gate and which phase settings it needs. A lab engineer does
    /// not know these; the commands must find them.
    /// </summary>
    public static EmulatedLabTruth EmulatorBench => EmulatedBench.Truth;

    public static Command Gate()
    {
        var source = new RigSource();
        var from = new Option<long>("--from-ps") { Description = "First gate delay, ps.", DefaultValueFactory = _ => 28_000 };
        var to = new Option<long>("--to-ps") { Description = "Last gate delay, ps.", DefaultValueFactory = _ => 35_000 };
        var step = new Option<long>("--step-ps") { Description = "Sweep step, ps.", DefaultValueFactory = _ => 250 };
        var width = new Option<long>("--width-ps") { Description = "Gate width during the sweep, ps.", DefaultValueFactory = _ => 1_000 };
        var pulses = new Option<long>("--pulses") { Description = "Pulses emitted per step.", DefaultValueFactory = _ => 2_000_000 };
        var json = new Option<bool>("--json") { Description = "Print the JSON report." };
        var output = new Option<DirectoryInfo>("--out") { Description = "Where the report and plot go.", DefaultValueFactory = _ => new DirectoryInfo("calibration") };
        var command = new Command("gate", "Sweep the detectors' gate delay, plot counts against delay and pick the optimum.")
        {
            from, to, step, width, pulses, json, output,
        };
        source.AddTo(command);
        command.SetAction((parse, cancellationToken) => Run(parse, source, bench =>
        {
            var profile = LinkProfile.Default.WithDistance(10);
            var settings = LinkSettings.Default;
            using var rig = RigSource.Open(bench, profile, settings, 1, EmulatorBench);
            var result = GateSweep.Run(rig, settings, parse.GetValue(from), parse.GetValue(to), parse.GetValue(step), parse.GetValue(width),
                parse.GetValue(pulses), 5, cancellationToken);
            var report = SweepReports.Write(result, parse.GetValue(output)!.FullName);
            string contrast = report.Contrast is double c ? $"contrast {c:F1}" : "no counts at the sweep's ends";
            return (SweepReports.ToJson(report),
                $"Gate optimum: {report.OptimumGateDelayPs} ps after the trigger ({report.GateWidthPs} ps gate, {contrast}); plot {report.Plot}");
        }, json));
        return command;
    }

    public static Command Alignment()
    {
        var source = new RigSource();
        var basis = new Option<string>("--basis") { Description = "Basis whose phase is swept: Z or X.", DefaultValueFactory = _ => "Z" };
        basis.AcceptOnlyFromAmong("Z", "X");
        var from = new Option<double>("--from-rad") { Description = "First phase setting, rad.", DefaultValueFactory = _ => -1.0 };
        var to = new Option<double>("--to-rad") { Description = "Last phase setting, rad.", DefaultValueFactory = _ => 2.0 };
        var step = new Option<double>("--step-rad") { Description = "Sweep step, rad.", DefaultValueFactory = _ => 0.2 };
        var pulses = new Option<long>("--pulses") { Description = "Pulses emitted per step.", DefaultValueFactory = _ => 4_000_000 };
        var gateDelay = new Option<long?>("--gate-delay-ps") { Description = "Gate the detectors at this delay (from `calibrate gate`); default: free-running." };
        var gateWidth = new Option<long>("--gate-width-ps") { Description = "Gate width with --gate-delay-ps, ps.", DefaultValueFactory = _ => 1_000 };
        var json = new Option<bool>("--json") { Description = "Print the JSON report." };
        var output = new Option<DirectoryInfo>("--out") { Description = "Where the report and plot go.", DefaultValueFactory = _ => new DirectoryInfo("calibration") };
        var command = new Command("alignment", "Sweep the modulator's phase in one basis, measure the QBER of both bases and pick the minimum.")
        {
            basis, from, to, step, pulses, gateDelay, gateWidth, json, output,
        };
        source.AddTo(command);
        command.SetAction((parse, cancellationToken) => Run(parse, source, bench =>
        {
            var profile = LinkProfile.Default.WithDistance(5);
            var settings = LinkSettings.Default;
            using var rig = RigSource.Open(bench, profile, settings, 1, EmulatorBench);
            // The detectors must see the light: gated where `calibrate gate` put the gate, or free-running.
            if (parse.GetValue(gateDelay) is long delay)
            {
                rig.Detector.SetGated(true);
                for (int head = 0; head < rig.Detector.Heads; head++)
                {
                    rig.Detector.SetGateWidthPs(head, parse.GetValue(gateWidth));
                    rig.Detector.SetGateDelayPs(head, delay);
                }
            }
            else
                rig.Detector.SetGated(false);
            var which = parse.GetValue(basis) == "X" ? Basis.X : Basis.Z;
            var result = AlignmentSweep.Run(rig, profile, settings, which, parse.GetValue(from), parse.GetValue(to), parse.GetValue(step), parse.GetValue(pulses), 9, cancellationToken);
            var report = SweepReports.Write(result, parse.GetValue(output)!.FullName);
            return (SweepReports.ToJson(report), report.OptimumPhaseRadians is double optimum
                ? $"{which}-basis phase optimum: {optimum:F3} rad, QBER {100 * report.MinimumQber:F2} % there; plot {report.Plot}"
                : $"No step sifted a bit in the {which} basis: no optimum (is the light reaching the detectors?); plot {report.Plot}");
        }, json));
        return command;
    }

    private static Task<int> Run(ParseResult parse, RigSource source, Func<DeviceBench?, (string Json, string Summary)> run, Option<bool> json)
    {
        TextWriter output = parse.InvocationConfiguration.Output, error = parse.InvocationConfiguration.Error;
        var (bench, problem) = source.Choose(parse);
        if (problem is not null)
        {
            error.WriteLine($"error: {problem}");
            return Task.FromResult(1);
        }
        try
        {
            var (report, summary) = run(bench);
            output.WriteLine(parse.GetValue(json) ? report : summary);
            return Task.FromResult(0);
        }
        catch (Exception e) when (e is ArgumentException or Protocol.DeviceException or IOException)
        {
            error.WriteLine($"error: {e.Message}");
            return Task.FromResult(1);
        }
    }
}
