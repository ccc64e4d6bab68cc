using Qkd.Distillation;
using Qkd.Distillation.ParameterEstimation;
using Qkd.Lab.Run;

namespace Qkd.Lab.Tests;

/// <summary>
/// The run report's per-block finite-key entry: the analysis that sized the block, its decoy bounds, phase error (with
/// the sampling deviation it adds) and key-length terms; undefined values are null, never NaN.
/// </summary>
public class FiniteKeyBlockReportTests
{
    private static readonly double[] Mu = [0.5, 0.15, 0.0], P = [0.65, 0.25, 0.10];

    private static BlockResult Block(long[] z, long[] x, long[] errorsX, long[] errorsZ, FiniteKeyAnalysisKind kind)
    {
        var analysis = FiniteKeyAnalyses.For(kind);
        var security = new SecurityParameters();
        var bounds = analysis.Estimate(new DecoyStatistics(Mu, P, z, x, errorsX), errorsZ, security);
        long leak = (long)(1.1 * z.Sum() * 0.14);
        var length = analysis.KeyLength(bounds, leak, 122, security);
        return new BlockResult
        {
            BlockId = 3, Outcome = BlockOutcome.Key, SiftedZ = z.Sum(), SiftedX = x.Sum(), SiftedZPerIntensity = z, SiftedXPerIntensity = x,
            ErrorsXPerIntensity = errorsX, ErrorsZPerIntensity = errorsZ, Bounds = bounds, KeyLength = length, SecretBits = length.SecretBits,
            LeakedErrorCorrectionBits = leak, VerificationTagBits = 122,
        };
    }

    [Theory]
    [InlineData(FiniteKeyAnalysisKind.CurrasLorenzo2021, "curraslorenzo2021")]
    [InlineData(FiniteKeyAnalysisKind.Lim2014, "lim2014")]
    public void A_block_with_key_reports_its_analysis_bounds_and_terms(FiniteKeyAnalysisKind kind, string name)
    {
        // Expected counts of a 25 km link for a 2^23-bit block (about 1.3e9 pulses).
        var block = Block([7_600_000, 776_000, 4_500], [844_000, 86_200, 500], [16_900, 1_900, 250], [152_000, 17_000, 2_250], kind);
        var report = FiniteKeyBlockReport.From(block, kind)!;

        Assert.Equal(name, report.Analysis);
        Assert.Null(report.Problem);
        Assert.All(new[] { report.VacuumEventsZLower, report.SinglePhotonEventsZLower, report.VacuumEventsXLower, report.SinglePhotonEventsXLower,
            report.SinglePhotonErrorsXUpper, report.SinglePhotonErrorRateXUpper, report.PhaseErrorRateZUpper, report.SamplingDeviation,
            report.VacuumTerm, report.SinglePhotonTerm, report.ErrorCorrectionLeak, report.VerificationAndSecrecyCost, report.KeyLengthBound },
            v => Assert.True(v is double d && double.IsFinite(d)));
        Assert.True(report.SamplingDeviation > 0);
        Assert.Equal(report.PhaseErrorRateZUpper!.Value, report.SinglePhotonErrorRateXUpper!.Value + report.SamplingDeviation!.Value, 1e-12);
        Assert.Equal(block.KeyLength!.RawValue, report.KeyLengthBound);
        Assert.True(block.SecretBits > 0);
        Assert.Null(report.VacuumEventsZUpper); // only the one-decoy analysis bounds the vacuum events from above
    }

    [Fact]
    public void A_block_without_certified_single_photons_reports_nulls_and_the_reason()
    {
        var block = Block([900, 20, 1], [100, 2, 0], [40, 1, 0], [300, 5, 0], FiniteKeyAnalysisKind.CurrasLorenzo2021);
        var report = FiniteKeyBlockReport.From(block, FiniteKeyAnalysisKind.CurrasLorenzo2021)!;
        Assert.Equal("curraslorenzo2021", report.Analysis);
        Assert.NotNull(report.Problem);
        Assert.Null(report.PhaseErrorRateZUpper);
        Assert.Null(report.SamplingDeviation);
        Assert.Null(FiniteKeyBlockReport.From(block with { Bounds = null }, FiniteKeyAnalysisKind.CurrasLorenzo2021));
    }
}
