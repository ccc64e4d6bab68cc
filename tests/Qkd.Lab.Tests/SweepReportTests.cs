using System.Text.Json;
using Qkd.Core;

namespace Qkd.Lab.Tests;

/// <summary>
/// Sweep reports carry every step's counts and uncertainty, null where a sweep could not give a value (never NaN or
/// infinity), and match their schemas, refusals included.
/// </summary>
public sealed class SweepReportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-sweep-report").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_gate_sweep_whose_ends_counted_nothing_has_no_contrast()
    {
        var result = GateSweep.Conclude([new(1_000, 0), new(1_500, 400), new(2_000, 0)], 1_000, 100_000);
        Assert.Equal(1_500, result.OptimumDelayPs);
        Assert.Equal(double.PositiveInfinity, result.Contrast);

        var report = SweepReports.Write(result, _dir);

        Assert.Null(report.Contrast);
        Assert.Equal(20, report.Steps[1].Uncertainty, 12);
        Assert.Equal(1, report.Steps[0].Uncertainty, 12);
        string json = SweepReports.ToJson(report);
        Assert.Equal(JsonValueKind.Null, JsonDocument.Parse(json).RootElement.GetProperty("contrast").ValueKind);
        LabTestFiles.AssertConforms(json, "gate-calibration");
        LabTestFiles.AssertPng(report.Plot);
    }

    [Fact]
    public void A_flat_gate_sweep_reports_no_optimum_and_how_much_more_data_is_needed()
    {
        // The case: contrast 1.0 on noise.
        var result = GateSweep.Conclude([new(1_000, 98), new(1_500, 104), new(2_000, 101), new(2_500, 97)], 1_000, 100_000);
        Assert.Null(result.OptimumDelayPs);
        Assert.Contains("no gate delay stands out", result.Problem);

        var report = SweepReports.Write(result, _dir);

        Assert.Null(report.OptimumGateDelayPs);
        Assert.Null(report.Contrast);
        Assert.Equal(result.Problem, report.Problem);
        string json = SweepReports.ToJson(report);
        Assert.DoesNotContain("NaN", json);
        Assert.DoesNotContain("Infinity", json);
        LabTestFiles.AssertConforms(json, "gate-calibration");
        LabTestFiles.AssertPng(report.Plot);
    }

    [Fact]
    public void An_alignment_step_that_sifted_nothing_has_no_qber_and_the_sweep_refuses()
    {
        var steps = new AlignmentSweep.Step[]
        {
            new(0, 0.2, double.NaN, 1_000, 0) { ErrorsZ = 200 },
            new(0.5, 0.03, double.NaN, 1_200, 0) { ErrorsZ = 36 },
            new(1, double.NaN, double.NaN, 0, 0),
        };
        var result = AlignmentSweep.Conclude(Basis.Z, steps, 1_000);
        // The NaN step is never the optimum; it has no data, so no optimum is reported at all.
        Assert.True(double.IsNaN(result.OptimumPhaseRadians));
        Assert.Contains("no light was sifted", result.Problem);

        var report = SweepReports.Write(result, _dir);

        Assert.Null(report.OptimumPhaseRadians);
        Assert.Null(report.MinimumQber);
        Assert.All(report.Steps, s => Assert.Null(s.QberX));
        Assert.All(report.Steps, s => Assert.Null(s.QberXUncertainty));
        Assert.Null(report.Steps[2].QberZ);
        Assert.Equal(36, report.Steps[1].ErrorsZ);
        string json = SweepReports.ToJson(report);
        Assert.DoesNotContain("NaN", json);
        Assert.DoesNotContain("Infinity", json);
        LabTestFiles.AssertConforms(json, "alignment-calibration");
    }

    [Fact]
    public void A_clear_alignment_optimum_is_reported_with_its_uncertainty()
    {
        var steps = new AlignmentSweep.Step[]
        {
            new(0, 0.2, 0.02, 10_000, 900) { ErrorsZ = 2_000, ErrorsX = 18 },
            new(0.5, 0.01, 0.02, 10_000, 900) { ErrorsZ = 100, ErrorsX = 18 },
            new(1, 0.3, 0.02, 10_000, 900) { ErrorsZ = 3_000, ErrorsX = 18 },
        };
        var result = AlignmentSweep.Conclude(Basis.Z, steps, 1_000_000) with { OtherPhaseRadians = -0.2 };
        Assert.Equal(0.5, result.OptimumPhaseRadians);

        var report = SweepReports.Write(result, _dir);

        Assert.Equal(0.01, report.MinimumQber);
        Assert.Equal(Calibration.QberTally.Uncertainty(100, 10_000), report.MinimumQberUncertainty);
        Assert.Equal(-0.2, report.OtherBasisPhaseRadians);
        Assert.True(report.SignificanceSigmas > report.RequiredSigmas);
        LabTestFiles.AssertConforms(SweepReports.ToJson(report), "alignment-calibration");
        LabTestFiles.AssertPng(report.Plot);
    }
}
