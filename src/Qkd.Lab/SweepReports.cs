using Qkd.Core;

namespace Qkd.Lab;

/// <summary>
/// The gate and alignment sweeps' outputs for the lab engineer: a JSON report (its schema is in Schemas/, next to this
/// file) and a PNG of the sweep with the chosen setting marked, axes in physical units.
/// </summary>
public static class SweepReports
{
    public sealed record GateReport(string Kind, long OptimumGateDelayPs, long GateWidthPs, long StepPs, long PulsesPerStep, double Contrast,
        IReadOnlyList<GateSweep.Step> Steps, string Plot);

    public sealed record AlignmentReport(string Kind, string Basis, double OptimumPhaseRadians, double MinimumQber, double StepRadians,
        long PulsesPerStep, IReadOnlyList<AlignmentSweep.Step> Steps, string Plot);

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
        var report = new GateReport("gate-calibration", result.OptimumDelayPs, result.GateWidthPs, step, result.PulsesPerStep, result.Contrast, result.Steps, png);
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
        var optimum = plot.Add.VerticalLine(result.OptimumPhaseRadians);
        optimum.Text = $"minimum {result.OptimumPhaseRadians:F3} rad ({100 * result.MinimumQber:F2} %)";
        plot.ShowLegend();
        plot.Title($"Alignment: QBER vs {result.Basis}-basis phase");
        plot.XLabel($"{result.Basis}-basis phase setting (rad)");
        plot.YLabel("QBER (%)");
        plot.SavePng(png, 1000, 600);
        double step = result.Steps.Count > 1 ? result.Steps[1].PhaseRadians - result.Steps[0].PhaseRadians : 0;
        var report = new AlignmentReport("alignment-calibration", result.Basis.ToString(), result.OptimumPhaseRadians, result.MinimumQber, step,
            result.PulsesPerStep, result.Steps, png);
        File.WriteAllText(Path.Combine(directory, $"alignment-{result.Basis.ToString().ToLowerInvariant()}.json"), ToJson(report));
        return report;
    }

    public static string ToJson<T>(T report) => LabReport.Serialize(report);
}
