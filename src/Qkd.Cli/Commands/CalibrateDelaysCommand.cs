using System.CommandLine;
using Qkd.Lab;

namespace Qkd.Cli.Commands;

/// <summary>`qkd calibrate delays`: each detector's delay relative to the sync, peak-fitted, written into a configuration file.</summary>
public static class CalibrateDelaysCommand
{
    public static Command Create()
    {
        var support = new LabCommandSupport();
        var bin = new Option<long>("--bin-ps") { Description = "Histogram bin width, ps.", DefaultValueFactory = _ => 10 };
        var config = new Option<FileInfo?>("--write-config") { Description = "Write the delays to this JSON file (tagger input delays)." };
        var command = new Command("delays", "Histogram detector tags against the sync, fit each channel's delay, write it into the configuration.") { bin, config };
        support.AddTo(command);
        command.SetAction((parse, ct) =>
        {
            TextWriter output = parse.InvocationConfiguration.Output, error = parse.InvocationConfiguration.Error;
            var (capture, problem) = support.Capture(parse, ct);
            if (capture is null)
            {
                error.WriteLine($"error: {problem}");
                return Task.FromResult(1);
            }
            try
            {
                var result = DelayCalibration.Run(capture, capture.DelayOptions(parse.GetValue(bin)),
                    parse.GetValue(support.Output)!.FullName, parse.GetValue(config)?.FullName);
                if (parse.GetValue(support.Json)) output.WriteLine(LabReport.Serialize(result.Report));
                else
                {
                    foreach (var d in result.Report.Detectors)
                        output.WriteLine(d.DelayPs is double delay
                            ? $"channel {d.Channel}: delay {delay:F1} +- {d.DelayUncertaintyPs:F1} ps (sigma {d.SigmaPs:F1} ps, {d.Tags:N0} tags); plot {d.Plot}"
                            : $"channel {d.Channel}: no delay found ({d.FitMethod})");
                    if (parse.GetValue(config) is { } file) output.WriteLine($"Delays written to {file.FullName}");
                }
                return Task.FromResult(LabExitCode.Measured);
            }
            catch (Calibration.InsufficientDataException e)
            {
                error.WriteLine(LabExitCode.Refusal(e, support.PulsesOf(parse, capture)));
                return Task.FromResult(LabExitCode.InsufficientData);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException)
            {
                error.WriteLine($"error: {e.Message}");
                return Task.FromResult(1);
            }
        });
        return command;
    }
}
