using System.Text.Json;
using Qkd.Core;

namespace Qkd.Lab.Tests;

/// <summary>Sweep reports carry null where a sweep could not give a value, never NaN or infinity, and still match their schemas.</summary>
public sealed class SweepReportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-sweep-report").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_gate_sweep_whose_ends_counted_nothing_has_no_contrast()
    {
        var result = new GateSweep.Result([new(1_000, 0), new(1_500, 40), new(2_000, 0)], 1_500, 1_000, 100_000);
        Assert.Equal(double.PositiveInfinity, result.Contrast);

        var report = SweepReports.Write(result, _dir);

        Assert.Null(report.Contrast);
        string json = SweepReports.ToJson(report);
        Assert.Equal(JsonValueKind.Null, JsonDocument.Parse(json).RootElement.GetProperty("contrast").ValueKind);
        LabTestFiles.AssertConforms(json, "gate-calibration");
        LabTestFiles.AssertPng(report.Plot);
    }

    [Fact]
    public void An_alignment_step_that_sifted_nothing_has_no_qber_and_cannot_be_the_optimum()
    {
        var steps = new AlignmentSweep.Step[] { new(0, 0.2, double.NaN, 100, 0), new(0.5, 0.03, double.NaN, 120, 0), new(1, double.NaN, double.NaN, 0, 0) };
        var result = new AlignmentSweep.Result(Basis.Z, steps, 0.5, 0.03, 1_000);

        var report = SweepReports.Write(result, _dir);

        Assert.Equal(0.5, report.OptimumPhaseRadians);
        Assert.All(report.Steps, s => Assert.Null(s.QberX));
        Assert.Null(report.Steps[2].QberZ);
        string json = SweepReports.ToJson(report);
        Assert.DoesNotContain("NaN", json);
        LabTestFiles.AssertConforms(json, "alignment-calibration");

        var nothing = SweepReports.Write(new AlignmentSweep.Result(Basis.X, steps, double.NaN, double.NaN, 1_000), _dir);
        Assert.Null(nothing.OptimumPhaseRadians);
        Assert.Null(nothing.MinimumQber);
        LabTestFiles.AssertConforms(SweepReports.ToJson(nothing), "alignment-calibration");
    }
}
