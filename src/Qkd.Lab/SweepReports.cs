using Qkd.Core;

namespace Qkd.Lab;

/// <summary>
/// The gate and alignment sweeps' outputs for the lab engineer: a JSON report (its schema is in Schemas/, next to this
/// file) and a PNG of the sweep with the chosen setting marked, axes in physical units. Values the sweep could not give
/// (a contrast over ends that counted nothing, a QBER where nothing was sifted) are null in the reports.
/// </summary>
public static class SweepReports
{
    public sealed record GateReport(string Kind, long OptimumGateDelayPs, long GateWidthPs, long StepPs, long PulsesPerStep, double? Contrast,
        IReadOnlyList<GateSweep.Step> Steps, string Plot);

    public sealed record AlignmentReport(string Kind, string Basis, double? OptimumPhaseRadians, double? MinimumQber, double StepRadians,
        long PulsesPerStep, IReadOnlyList<AlignmentStepReport> Steps, string Plot);

    /// <summary>One step of an alignment sweep; a QBER is null where nothing was sifted in its basis.</summary>
    public sealed record AlignmentStepReport(double PhaseRadians, double? QberZ, double? QberX, long SiftedZ, long SiftedX);

    public static GateReport Write(GateSweep.Result result, string directory)
    {
        Directory.CreateDirectory(directory);
        string png = Path.Combine(directory, "gate-sweep.png");
        var plot = new ScottPlot.Plot();
        plot.Add.Scatter(result.Steps.Select(s => (double)s.GateDelayPs).ToArray(), result.Steps.Select(s => (double)s.Detections).ToArray());
        var optimum = plot.Add.VerticalLine(result.OptimumDelayPs);
        optimum.Text = $"optimum {result.OptimumDelayPs} ps";
        plot.Title($"Gate sweep ({result.GateWidthPs} ps gate, {result.PulsesPerStep:N0} pulses per step)");
        plot.XLabel("Gate delay after trigger (ps)");
        plot.YLabel("Detections per step (counts)");
        plot.SavePng(png, 1000, 600);
        long step = result.Steps.Count > 1 ? result.Steps[1].GateDelayPs - result.Steps[0].GateDelayPs : 0;
        var report = new GateReport("gate-calibration", result.OptimumDelayPs, result.GateWidthPs, step, result.PulsesPerStep,
            LabReport.Finite(result.Contrast), result.Steps, png);
        File.WriteAllText(Path.Combine(directory, "gate-calibration.json"), ToJson(report));
        return report;
    }

    public static AlignmentReport Write(AlignmentSweep.Result result, string directory)
    {
        Directory.CreateDirectory(directory);
        string png = Path.Combine(directory, $"alignment-{result.Basis.ToString().ToLowerInvariant()}.png");
        var plot = new ScottPlot.Plot();
        double[] phases = result.Steps.Select(s => s.PhaseRadians).ToArray();
        var z = plot.Add.Scatter(phases, result.Steps.Select(s => 100 * s.QberZ).ToArray());
        z.LegendText = "QBER Z";
        var x = plot.Add.Scatter(phases, result.Steps.Select(s => 100 * s.QberX).ToArray());
        x.LegendText = "QBER X";
        if (double.IsFinite(result.OptimumPhaseRadians))
        {
            var optimum = plot.Add.VerticalLine(result.OptimumPhaseRadians);
            optimum.Text = $"minimum {result.OptimumPhaseRadians:F3} rad ({100 * result.MinimumQber:F2} %)";
        }
        plot.ShowLegend();
        plot.Title($"Alignment: QBER vs {result.Basis}-basis phase");
        plot.XLabel($"{result.Basis}-basis phase setting (rad)");
        plot.YLabel("QBER (%)");
        plot.SavePng(png, 1000, 600);
        double step = result.Steps.Count > 1 ? result.Steps[1].PhaseRadians - result.Steps[0].PhaseRadians : 0;
        var steps = result.Steps.Select(s => new AlignmentStepReport(s.PhaseRadians, LabReport.Finite(s.QberZ), LabReport.Finite(s.QberX), s.SiftedZ, s.SiftedX))
            .ToArray();
        var report = new AlignmentReport("alignment-calibration", result.Basis.ToString(), LabReport.Finite(result.OptimumPhaseRadians),
            LabReport.Finite(result.MinimumQber), step, result.PulsesPerStep, steps, png);
        File.WriteAllText(Path.Combine(directory, $"alignment-{result.Basis.ToString().ToLowerInvariant()}.json"), ToJson(report));
        return report;
    }

    public static string ToJson<T>(T report) => LabReport.Serialize(report);
}
