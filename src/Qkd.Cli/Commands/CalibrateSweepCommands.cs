using System.CommandLine;
using System.Globalization;
using Qkd.Hardware.Devices;
using Qkd.Core;
using Qkd.Emulation;
using Qkd.Emulation.Firmware;
using Qkd.Node.Devices;
using Qkd.Lab;
using Qkd.Node.Link;

namespace Qkd.Cli.Commands;

/// <summary>
/// `qkd calibrate gate` and `qkd calibrate alignment`: sweeps over the devices, with report and plot. A sweep whose
/// steps lack data, or whose optimum does not stand out of the noise, writes its report and plot (every step's counts
/// and uncertainty) and exits 1 saying how much more data is needed. <c>--write-config FILE</c> keeps what was found
/// in a <see cref="DeviceCalibration"/> file that <c>--config FILE</c> reads back (here and in `qkd monitor`).
/// </summary>
public static class CalibrateSweepCommands
{
    /// <summary>
    /// The emulator's bench: where its light arrives in the gate and which phase settings it needs. A lab engineer does
    /// not know these; the commands must find them.
    /// </summary>
    public static EmulatedLabTruth EmulatorBench => EmulatedBench.Truth;

    /// <summary>Fibre length the sweeps assume unless told: that of the bench `qkd emulate --bench-out` serves.</summary>
    public const double DefaultDistanceKm = 10;

    private static Option<double> DistanceOption() => new("--distance-km")
    {
        Description = "Fibre length, km: the emulated bench's, or a device bench's (the light's path for the receiver timing).",
        DefaultValueFactory = _ => DefaultDistanceKm,
    };

    public static Command Gate()
    {
        var source = new RigSource();
        var from = new Option<long>("--from-ps") { Description = "First gate delay, ps.", DefaultValueFactory = _ => 28_000 };
        var to = new Option<long>("--to-ps") { Description = "Last gate delay, ps.", DefaultValueFactory = _ => 35_000 };
        var step = new Option<long>("--step-ps") { Description = "Sweep step, ps.", DefaultValueFactory = _ => 250 };
        var width = new Option<long>("--width-ps") { Description = "Gate width during the sweep, ps.", DefaultValueFactory = _ => 1_000 };
        var pulses = new Option<long>("--pulses") { Description = "Pulses emitted per step.", DefaultValueFactory = _ => 2_000_000 };
        var distance = DistanceOption();
        var writeConfig = new Option<FileInfo?>("--write-config") { Description = "Keep the gate found in this bench calibration file (other fields kept)." };
        var json = new Option<bool>("--json") { Description = "Print the JSON report." };
        var output = new Option<DirectoryInfo>("--out") { Description = "Where the report and plot go.", DefaultValueFactory = _ => new DirectoryInfo("calibration") };
        var command = new Command("gate", "Sweep the detectors' gate delay, plot counts against delay and pick the optimum.")
        {
            from, to, step, width, pulses, distance, writeConfig, json, output,
        };
        source.AddTo(command);
        command.SetAction((parse, cancellationToken) => Run(parse, source, bench =>
        {
            var profile = Profile(parse, distance);
            var settings = LinkSettings.Default;
            var file = parse.GetValue(writeConfig);
            var kept = file is null ? null : DeviceCalibration.LoadOrEmpty(file.FullName);
            using var rig = RigSource.Open(bench, profile, settings, 1, EmulatorBench);
            var result = GateSweep.Run(rig, settings, parse.GetValue(from), parse.GetValue(to), parse.GetValue(step), parse.GetValue(width),
                parse.GetValue(pulses), 5, cancellationToken) with { DistanceKm = profile.FibreLengthKm };
            var report = SweepReports.Write(result, parse.GetValue(output)!.FullName);
            if (report.OptimumGateDelayPs is not long optimum) return (SweepReports.ToJson(report), null, $"{result.Problem} Report and plot: {report.Plot}");
            if (file is not null) (kept! with { GateDelayPs = optimum, GateWidthPs = report.GateWidthPs }).Save(file.FullName);
            string contrast = report.Contrast is double c ? string.Create(CultureInfo.InvariantCulture, $"contrast {c:F1}") : "no counts at the sweep's ends";
            return (SweepReports.ToJson(report), string.Create(CultureInfo.InvariantCulture,
                $"Gate optimum: {optimum} ps after the trigger ({report.GateWidthPs} ps gate, {contrast}, {report.SignificanceSigmas:F0} sigma above the weakest step)" +
                $"{(file is null ? "" : $"; kept in {file.FullName}")}; plot {report.Plot}"), null);
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
        var distance = DistanceOption();
        var otherPhase = new Option<double?>("--other-phase-rad") { Description = "Phase of the basis not swept, rad (default: from --config, else left as the device has it)." };
        var config = new Option<FileInfo?>("--config")
        {
            Description = "The last calibration (a --write-config file): the other basis's phase and the gate come from it.",
        };
        var writeConfig = new Option<FileInfo?>("--write-config") { Description = "Keep the phase found (and the other basis's) in this bench calibration file." };
        var gateDelay = new Option<long?>("--gate-delay-ps") { Description = "Gate the detectors at this delay (from `calibrate gate`); default: from --config, else free-running." };
        var gateWidth = new Option<long>("--gate-width-ps") { Description = "Gate width with --gate-delay-ps, ps.", DefaultValueFactory = _ => 1_000 };
        var json = new Option<bool>("--json") { Description = "Print the JSON report." };
        var output = new Option<DirectoryInfo>("--out") { Description = "Where the report and plot go.", DefaultValueFactory = _ => new DirectoryInfo("calibration") };
        var command = new Command("alignment", "Sweep the modulator's phase in one basis, measure the QBER of both bases and pick the minimum.")
        {
            basis, from, to, step, pulses, distance, otherPhase, config, writeConfig, gateDelay, gateWidth, json, output,
        };
        source.AddTo(command);
        source.AddTimingTo(command);
        command.SetAction((parse, cancellationToken) => Run(parse, source, bench =>
        {
            var profile = Profile(parse, distance);
            var settings = LinkSettings.Default;
            var which = parse.GetValue(basis) == "X" ? Basis.X : Basis.Z;
            var other = which == Basis.Z ? Basis.X : Basis.Z;
            var last = parse.GetValue(config) is { } read ? DeviceCalibration.Load(read.FullName) : null;
            var file = parse.GetValue(writeConfig);
            var kept = file is null ? null : DeviceCalibration.LoadOrEmpty(file.FullName);
            double? otherRadians = parse.GetValue(otherPhase) ?? last?.Phase(other);
            var delays = source.DelayFile(parse);
            using var rig = RigSource.Open(bench, profile, settings, 1, EmulatorBench, delays?.SyncChannel ?? 0);
            // The detectors must see the light: gated where `calibrate gate` put the gate, or free-running.
            if (parse.GetValue(gateDelay) is long delay)
                (DeviceCalibration.Empty with { GateDelayPs = delay, GateWidthPs = parse.GetValue(gateWidth) }).ApplyTo(rig.Modulator, rig.Detector);
            else if (last is { GateDelayPs: long })
                (DeviceCalibration.Empty with { GateDelayPs = last.GateDelayPs, GateWidthPs = last.GateWidthPs }).ApplyTo(rig.Modulator, rig.Detector);
            else
                rig.Detector.SetGated(false);
            if (otherRadians is double o) rig.Modulator.SetBasisPhaseRadians(other, o);
            var timing = source.Timing(parse, delays, rig, profile, settings, 8, cancellationToken);
            var result = AlignmentSweep.Run(rig, profile, settings, timing, which, parse.GetValue(from), parse.GetValue(to), parse.GetValue(step),
                parse.GetValue(pulses), 9, otherRadians, cancellationToken);
            var report = SweepReports.Write(result, parse.GetValue(output)!.FullName);
            if (report.OptimumPhaseRadians is not double optimum) return (SweepReports.ToJson(report), null, $"{result.Problem} Report and plot: {report.Plot}");
            if (file is not null)
            {
                var found = kept!.WithPhase(which, optimum);
                (otherRadians is double used ? found.WithPhase(other, used) : found).Save(file.FullName);
            }
            return (SweepReports.ToJson(report), string.Create(CultureInfo.InvariantCulture,
                $"{which}-basis phase optimum: {optimum:F3} rad, QBER {100 * report.MinimumQber:F2} ± {100 * report.MinimumQberUncertainty:F2} % there " +
                $"({other} phase {(otherRadians is double v ? $"{v:F3} rad" : "as the device had it")}; timing {timing.Source})" +
                $"{(file is null ? "" : $"; kept in {file.FullName}")}; plot {report.Plot}"), null);
        }, json));
        return command;
    }

    private static LinkProfile Profile(ParseResult parse, Option<double> distance)
    {
        var profile = EmulatedBench.Profile(parse.GetValue(distance));
        try
        {
            profile.Validate();
        }
        catch (LinkProfileException e)
        {
            throw new ArgumentException($"--distance-km: {e.Message}", e);
        }
        return profile;
    }

    /// <param name="run">The sweep: its JSON report, and either a summary (success) or a refusal (exit LabExitCode.InsufficientData, on stderr; the report is still written, with a null optimum and its problem).</param>
    private static Task<int> Run(ParseResult parse, RigSource source, Func<DeviceBench?, (string Json, string? Summary, string? Refusal)> run, Option<bool> json)
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
            var (report, summary, refusal) = run(bench);
            if (parse.GetValue(json)) output.WriteLine(report);
            if (refusal is not null)
            {
                error.WriteLine($"refused: {refusal}");
                return Task.FromResult(LabExitCode.InsufficientData);
            }
            if (!parse.GetValue(json)) output.WriteLine(summary);
            return Task.FromResult(0);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or Protocol.DeviceException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {e.Message}");
            return Task.FromResult(1);
        }
    }
}
