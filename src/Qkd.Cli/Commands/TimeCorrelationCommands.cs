using System.CommandLine;
using Qkd.Lab;

namespace Qkd.Cli.Commands;

/// <summary>`qkd histogram` and `qkd correlate CH1 CH2`: time-difference histogram and g2 over live (emulated) or recorded tags.</summary>
public static class TimeCorrelationCommands
{
    public static Command Histogram()
    {
        var support = new LabCommandSupport();
        var start = new Option<ushort>("--start") { Description = "Start channel.", DefaultValueFactory = _ => 0 };
        var stop = new Option<ushort>("--stop") { Description = "Stop channel.", DefaultValueFactory = _ => 1 };
        // A pulsed link's sync-to-detector histogram is a comb, one peak per pulse period: a dozen 1 ns periods in 20 ps
        // bins show each peak's shape (the detector's jitter, ~40 ps) with tens of pairs in it from a default capture.
        var (min, max, bin) = Range(-2_000, 10_000, 20);
        var command = new Command("histogram", "Time-difference histogram between two channels, with the peak fitted.") { start, stop, min, max, bin };
        support.AddTo(command);
        command.SetAction((parse, ct) => Run(parse, support, ct, capture => TimeCorrelation.Run(capture, parse.GetValue(start), parse.GetValue(stop),
            parse.GetValue(min), parse.GetValue(max), parse.GetValue(bin), normalise: false, parse.GetValue(support.Output)!.FullName),
            r => $"{r.Pairs:N0} pairs between channels {r.StartChannel} and {r.StopChannel}" +
                 (r.PeakPs is double p ? $"; peak at {p:F1} ps (sigma {r.PeakSigmaPs:F1} ps)" : "; no peak") + $"; plot {r.Plot}"));
        return command;
    }

    public static Command Correlate()
    {
        var support = new LabCommandSupport();
        var first = new Argument<ushort>("CH1") { Description = "First channel." };
        var second = new Argument<ushort>("CH2") { Description = "Second channel." };
        var (min, max, bin) = Range(-20_000, 20_000, 100);
        var command = new Command("correlate", "g2 coincidence between two channels (normalised time-difference histogram).") { first, second, min, max, bin };
        support.AddTo(command);
        command.SetAction((parse, ct) => Run(parse, support, ct, capture => TimeCorrelation.Run(capture, parse.GetValue(first), parse.GetValue(second),
            parse.GetValue(min), parse.GetValue(max), parse.GetValue(bin), normalise: true, parse.GetValue(support.Output)!.FullName),
            r => $"g2(0) between channels {r.StartChannel} and {r.StopChannel}: {r.G2AtZero:F3} ({r.Pairs:N0} pairs); plot {r.Plot}"));
        return command;
    }

    private static (Option<long> Min, Option<long> Max, Option<long> Bin) Range(long min, long max, long bin) => (
        new Option<long>("--min-ps") { Description = "Smallest time difference, ps.", DefaultValueFactory = _ => min },
        new Option<long>("--max-ps") { Description = "Largest time difference, ps.", DefaultValueFactory = _ => max },
        new Option<long>("--bin-ps") { Description = "Bin width, ps.", DefaultValueFactory = _ => bin });

    private static Task<int> Run(ParseResult parse, LabCommandSupport support, CancellationToken ct, Func<LabCapture, TimeCorrelation.Report> measure,
        Func<TimeCorrelation.Report, string> summary)
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
            var report = measure(capture);
            output.WriteLine(parse.GetValue(support.Json) ? LabReport.Serialize(report) : summary(report));
            return Task.FromResult(LabExitCode.Measured);
        }
        catch (Calibration.InsufficientDataException e)
        {
            error.WriteLine(LabExitCode.Refusal(e, support.PulsesOf(parse, capture)));
            return Task.FromResult(LabExitCode.InsufficientData);
        }
        catch (ArgumentException e)
        {
            error.WriteLine($"error: {e.Message}");
            return Task.FromResult(1);
        }
    }
}
