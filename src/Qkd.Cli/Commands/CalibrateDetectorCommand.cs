using System.CommandLine;
using Qkd.Lab;

namespace Qkd.Cli.Commands;

/// <summary>`qkd calibrate detector`: dark counts, afterpulsing, dead time, and efficiency when mu and loss are given.</summary>
public static class CalibrateDetectorCommand
{
    public static Command Create()
    {
        var emulator = new Option<bool>("--emulator") { Description = "Calibrate the emulated bench's detectors." };
        var replay = new Option<FileInfo?>("--replay") { Description = "A recording taken with the light blocked." };
        var pulses = new Option<long>("--pulses") { Description = "Pulse slots per capture.", DefaultValueFactory = _ => 1_000_000_000 };
        var mu = new Option<double?>("--mu") { Description = "Mean photon number at the source: also measure the efficiency (with --loss-db)." };
        var loss = new Option<double?>("--loss-db") { Description = "Loss from the source to the detectors, dB." };
        var json = new Option<bool>("--json") { Description = "Print the JSON report." };
        var output = new Option<DirectoryInfo>("--out") { Description = "Where the report and plots go.", DefaultValueFactory = _ => new DirectoryInfo("lab") };
        var acceptDamaged = DamagedRecordings.CreateOption();
        var lightOff = new Option<bool>("--light-off-confirmed")
        {
            Description = "The --replay file was taken with the light blocked, though its metadata does not say so (a PicoQuant file, another tool's " +
                          "recording). A recording whose metadata says the light was on is refused regardless.",
        };
        var command = new Command("detector", "Dark-count rate (light blocked), afterpulse probability and decay, dead time, and efficiency.")
        {
            emulator, replay, pulses, mu, loss, json, output, acceptDamaged, lightOff,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            TextWriter writer = parse.InvocationConfiguration.Output, error = parse.InvocationConfiguration.Error;
            if (parse.GetValue(emulator) == (parse.GetValue(replay) is not null))
            {
                error.WriteLine("error: give exactly one source: --emulator or --replay FILE");
                return Task.FromResult(1);
            }
            if ((parse.GetValue(mu) is null) != (parse.GetValue(loss) is null))
            {
                error.WriteLine("error: the efficiency needs both --mu and --loss-db");
                return Task.FromResult(1);
            }
            try
            {
                var result = DetectorCalibrationRun.Run(new DetectorCalibrationOptions
                {
                    Profile = EmulatedBench.DetectorProfile,
                    Pulses = parse.GetValue(pulses),
                    ReplayFile = parse.GetValue(replay)?.FullName,
                    AcceptDamaged = parse.GetValue(acceptDamaged),
                    LightOffConfirmed = parse.GetValue(lightOff),
                    MeanPhotonNumber = parse.GetValue(mu),
                    LossDb = parse.GetValue(loss),
                }, cancellationToken);
                if (result.DarkSource.Contains(Lab.Run.RecordingIntegrityReport.AcceptedNote, StringComparison.Ordinal)) error.WriteLine($"warning: {result.DarkSource}");
                var report = DetectorCalibrationOutput.Write(result, parse.GetValue(output)!.FullName);
                if (parse.GetValue(json)) writer.WriteLine(LabReport.Serialize(report));
                else
                {
                    foreach (var c in report.Channels)
                        writer.WriteLine($"detector {c.Channel}: dark {c.DarkCountRateHz:F0} +- {c.DarkCountRateUncertaintyHz:F0} /s, dead time {c.DeadTimePs / 1e3:F2} ns, " +
                            $"afterpulse p {c.AfterpulseProbability:F3} (tau {c.AfterpulseDecayPs / 1e3:F1} ns)");
                    if (report.Efficiency is { } e)
                        writer.WriteLine(e.Efficiency is double eta
                            ? $"efficiency {100 * eta:F2} +- {100 * e.Uncertainty:F2} %"
                            : "efficiency: no finite estimate (a detector fired in every live pulse slot: lower mu or add loss)");
                    writer.WriteLine($"plots in {parse.GetValue(output)!.FullName}");
                }
                return Task.FromResult(LabExitCode.Measured);
            }
            catch (Calibration.InsufficientDataException e)
            {
                error.WriteLine(LabExitCode.Refusal(e, parse.GetValue(replay) is null ? parse.GetValue(pulses) : null));
                return Task.FromResult(LabExitCode.InsufficientData);
            }
            catch (Exception e) when (e is ArgumentException or IOException or InvalidOperationException or Protocol.DeviceException)
            {
                error.WriteLine($"error: {e.Message}");
                return Task.FromResult(1);
            }
        });
        return command;
    }
}
