using System.CommandLine;
using Qkd.Lab;

namespace Qkd.Cli.Commands;

/// <summary>`qkd histogram` and `qkd correlate CH1 CH2`: time-difference histogram and g2 (pulsed or continuous light) over
/// live (emulated) or recorded tags.</summary>
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
        var first = new Argument<ushort>("CH1") { Description = "First channel (t1)." };
        var second = new Argument<ushort>("CH2") { Description = "Second channel (t2); differences are t2 - t1." };
        var light = new Option<string>("--light")
        {
            Description = "pulsed: g2(0) = zero-delay peak area / mean side-peak area; continuous: g2 = pairs / (N1 N2 w / T); " +
                "auto: pulsed when a pulse period is known (--period-ps, the capture's settings, the file's header, the sync channel).",
            DefaultValueFactory = _ => "auto",
        };
        light.AcceptOnlyFromAmong("auto", "pulsed", "continuous");
        var period = new Option<double?>("--period-ps") { Description = "The light's pulse period, ps (pulsed light; overrides what the capture states)." };
        var zero = new Option<double?>("--zero-ps")
        {
            Description = "Where zero delay is expected, ps: CH2's delay minus CH1's (calibrate delays); the zero-delay peak of pulsed light " +
                "is the one nearest it. Default 0 (the emulator: its detector delays).",
        };
        var min = new Option<long?>("--min-ps") { Description = "Smallest time difference, ps (default -20000, pulsed: -11 periods)." };
        var max = new Option<long?>("--max-ps") { Description = "Largest time difference, ps (default 20000, pulsed: 11 periods)." };
        var bin = new Option<long?>("--bin-ps") { Description = "Bin width, ps (default 100, pulsed: at most a twentieth of the period)." };
        var command = new Command("correlate", "g2 between two channels: pulsed light by peak areas, continuous light by the accidental level; " +
            "refused (exit 6) when the counts cannot support it.") { first, second, light, period, zero, min, max, bin };
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
                ReportUnplaced(capture, error);
                var report = G2Correlation.Run(capture, parse.GetValue(first), parse.GetValue(second),
                    new G2Correlation.Options(parse.GetValue(light)!, parse.GetValue(period), parse.GetValue(min), parse.GetValue(max), parse.GetValue(bin),
                        parse.GetValue(zero)),
                    parse.GetValue(support.Output)!.FullName);
                if (parse.GetValue(support.Json)) output.WriteLine(LabReport.Serialize(report));
                if (report.Refusal is string refusal)
                {
                    error.WriteLine($"refused: g2(0) between channels {report.StartChannel} and {report.StopChannel} ({report.Light} light): {refusal}. Plot {report.Plot}");
                    return Task.FromResult(LabExitCode.InsufficientData);
                }
                if (!parse.GetValue(support.Json)) output.WriteLine(CorrelationSummary(report));
                return Task.FromResult(0);
            }
            catch (ArgumentException e)
            {
                error.WriteLine($"error: {e.Message}");
                return Task.FromResult(1);
            }
        });
        return command;
    }

    private static string CorrelationSummary(G2Correlation.Report r) => r.Light == "pulsed"
        ? $"g2(0) between channels {r.StartChannel} and {r.StopChannel}: {r.G2AtZero:F3} ± {r.G2Uncertainty:F3} (pulsed light, period {r.PulsePeriodPs:F1} ps " +
          $"from {r.LightFrom}; zero-delay peak at {r.ZeroDelayPs:F0} ps; {r.CentralPeakPairs:F0} pairs in it over a mean of {r.MeanSidePeakPairs:F1} " +
          $"in {r.SidePeaks} side peaks); plot {r.Plot}"
        : $"g2(0) between channels {r.StartChannel} and {r.StopChannel}: {r.G2AtZero:F3} ± {r.G2Uncertainty:F3} (continuous light: {r.CentralPeakPairs:F0} pairs " +
          $"in the 0 ps bin over an accidental level of {r.AccidentalPairsPerBin:F1} per {r.BinWidthPs} ps bin); plot {r.Plot}";

    /// <summary>Tags the replayed file lost to its reorder window are said, never silently dropped.</summary>
    private static void ReportUnplaced(LabCapture capture, TextWriter error)
    {
        if (capture.TagsNotPlaced > 0)
            error.WriteLine($"warning: {capture.TagsNotPlaced:N0} tags of {capture.Source} could not be placed in time order and were dropped " +
                "(out of order by more than the PTU reader's reorder window)");
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
            ReportUnplaced(capture, error);
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
