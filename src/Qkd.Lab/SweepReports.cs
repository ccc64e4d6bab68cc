using System.Globalization;
using Qkd.Core;

namespace Qkd.Lab;

/// <summary>
/// The gate and alignment sweeps' outputs for the lab engineer: a JSON report (its schema is in Schemas/, next to this
/// file) with every step's counts and uncertainty, and a PNG of the sweep with error bars and the chosen setting marked,
/// axes in physical units. A sweep that refused (too few counts, no optimum out of the noise) still writes both, with a
/// null optimum and its <c>problem</c>. Values the sweep could not give (a contrast over ends that counted nothing, a
/// QBER where nothing was sifted) are null in the reports, never NaN or infinity.
/// </summary>
public static class SweepReports
{
    /// <param name="SignificanceSigmas">How far the best step stands from the weakest, in standard deviations of their difference.</param>
    /// <param name="RequiredSigmas">What the sweep's length requires (3 + 2 sqrt(ln N)).</param>
    /// <param name="Problem">Why no optimum is reported and how much more data is needed; null when it stands.</param>
    public sealed record GateReport(string Kind, long? OptimumGateDelayPs, long GateWidthPs, long StepPs, long PulsesPerStep, double? DistanceKm,
        double? Contrast, double SignificanceSigmas, double RequiredSigmas, IReadOnlyList<GateStepReport> Steps, string? Problem, string Plot);

    /// <param name="Uncertainty">Standard uncertainty of the count (Poisson, at least 1).</param>
    public sealed record GateStepReport(long GateDelayPs, long Detections, double Uncertainty);

    public sealed record AlignmentReport(string Kind, string Basis, double? OptimumPhaseRadians, double? MinimumQber, double? MinimumQberUncertainty,
        double? OtherBasisPhaseRadians, double StepRadians, long PulsesPerStep, double? DistanceKm, string? Timing, double? SignificanceSigmas,
        double? RequiredSigmas, IReadOnlyList<AlignmentStepReport> Steps, string? Problem, string Plot);

    /// <summary>One step of an alignment sweep; a QBER and its uncertainty are null where nothing was sifted in its basis.</summary>
    public sealed record AlignmentStepReport(double PhaseRadians, double? QberZ, double? QberZUncertainty, double? QberX, double? QberXUncertainty,
        long SiftedZ, long ErrorsZ, long SiftedX, long ErrorsX);

    public static GateReport Write(GateSweep.Result result, string directory)
    {
        ArgumentNullException.ThrowIfNull(result);
        Directory.CreateDirectory(directory);
        string png = Path.Combine(directory, "gate-sweep.png");
        var plot = new ScottPlot.Plot();
        double[] delays = result.Steps.Select(s => (double)s.GateDelayPs).ToArray();
        double[] counts = result.Steps.Select(s => (double)s.Detections).ToArray();
        var data = plot.Add.Scatter(delays, counts);
        data.LegendText = "detections (±1 sigma, Poisson)";
        var bars = plot.Add.ErrorBar(delays, counts, result.Steps.Select(s => s.Uncertainty).ToArray());
        bars.Color = data.Color;
        if (result.OptimumDelayPs is long optimum)
        {
            var line = plot.Add.VerticalLine(optimum);
            line.Text = $"optimum {optimum} ps";
            line.LegendText = string.Create(CultureInfo.InvariantCulture, $"optimum {optimum} ps ({result.Significance.Sigmas:F0} sigma)");
        }
        plot.Title(result.OptimumDelayPs is null
            ? $"Gate sweep: no optimum ({result.GateWidthPs} ps gate, {result.PulsesPerStep:N0} pulses per step)"
            : $"Gate sweep ({result.GateWidthPs} ps gate, {result.PulsesPerStep:N0} pulses per step)");
        plot.XLabel("Gate delay after trigger (ps)");
        plot.YLabel("Detections per step (counts)");
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        plot.SavePng(png, 1000, 600);
        long step = result.Steps.Count > 1 ? result.Steps[1].GateDelayPs - result.Steps[0].GateDelayPs : 0;
        var significance = result.Significance;
        var report = new GateReport("gate-calibration", result.OptimumDelayPs, result.GateWidthPs, step, result.PulsesPerStep, LabReport.Finite(result.DistanceKm),
            result.OptimumDelayPs is null ? null : LabReport.Finite(result.Contrast), Finite0(significance.Sigmas), significance.RequiredSigmas,
            result.Steps.Select(s => new GateStepReport(s.GateDelayPs, s.Detections, s.Uncertainty)).ToArray(), result.Problem, png);
        File.WriteAllText(Path.Combine(directory, "gate-calibration.json"), ToJson(report));
        return report;
    }

    public static AlignmentReport Write(AlignmentSweep.Result result, string directory)
    {
        ArgumentNullException.ThrowIfNull(result);
        Directory.CreateDirectory(directory);
        string name = result.Basis.ToString().ToLowerInvariant();
        string png = Path.Combine(directory, $"alignment-{name}.png");
        var plot = new ScottPlot.Plot();
        foreach (Basis basis in (Basis[])[Basis.Z, Basis.X])
        {
            // Steps that sifted nothing in a basis have no QBER there: not drawn (a NaN would break the line).
            var points = result.Steps.Where(s => double.IsFinite(s.Qber(basis))).ToArray();
            if (points.Length == 0) continue;
            double[] phases = points.Select(s => s.PhaseRadians).ToArray();
            double[] qbers = points.Select(s => 100 * s.Qber(basis)).ToArray();
            var line = plot.Add.Scatter(phases, qbers);
            line.LegendText = $"QBER {basis} (±1 sigma)";
            var bars = plot.Add.ErrorBar(phases, qbers, points.Select(s => 100 * s.QberUncertainty(basis)).ToArray());
            bars.Color = line.Color;
        }
        if (double.IsFinite(result.OptimumPhaseRadians))
        {
            var optimum = plot.Add.VerticalLine(result.OptimumPhaseRadians);
            string label = string.Create(CultureInfo.InvariantCulture,
                $"minimum {result.OptimumPhaseRadians:F3} rad ({100 * result.MinimumQber:F2} ± {100 * result.MinimumQberUncertainty:F2} %)");
            optimum.Text = label;
            optimum.LegendText = label;
        }
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        plot.Title(double.IsFinite(result.OptimumPhaseRadians)
            ? $"Alignment: QBER vs {result.Basis}-basis phase ({result.PulsesPerStep:N0} pulses per step)"
            : $"Alignment: QBER vs {result.Basis}-basis phase: no optimum ({result.PulsesPerStep:N0} pulses per step)");
        plot.XLabel($"{result.Basis}-basis phase setting (rad)");
        plot.YLabel("QBER (%)");
        plot.SavePng(png, 1000, 600);
        double step = result.Steps.Count > 1 ? result.Steps[1].PhaseRadians - result.Steps[0].PhaseRadians : 0;
        var steps = result.Steps.Select(s => new AlignmentStepReport(s.PhaseRadians, LabReport.Finite(s.QberZ), LabReport.Finite(s.QberZUncertainty),
            LabReport.Finite(s.QberX), LabReport.Finite(s.QberXUncertainty), s.SiftedZ, s.ErrorsZ, s.SiftedX, s.ErrorsX)).ToArray();
        var report = new AlignmentReport("alignment-calibration", result.Basis.ToString(), LabReport.Finite(result.OptimumPhaseRadians),
            LabReport.Finite(result.MinimumQber), LabReport.Finite(result.MinimumQberUncertainty), LabReport.Finite(result.OtherPhaseRadians), step,
            result.PulsesPerStep, LabReport.Finite(result.DistanceKm), result.Timing, LabReport.Finite(result.Significance?.Sigmas),
            LabReport.Finite(result.Significance?.RequiredSigmas), steps, result.Problem, png);
        File.WriteAllText(Path.Combine(directory, $"alignment-{name}.json"), ToJson(report));
        return report;
    }

    public static string ToJson<T>(T report) => LabReport.Serialize(report);

    private static double Finite0(double value) => double.IsFinite(value) ? value : 0;
}
