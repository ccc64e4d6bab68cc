using Qkd.Distillation;
using Qkd.Distillation.ParameterEstimation;

namespace Qkd.Lab.Run;

/// <summary>
/// The finite-key analysis of a run (`--report`): which analysis sized the keys, its paper, and every epsilon of its
/// security statement. The per-block bounds and terms are in each <see cref="BlockReport.FiniteKey"/>.
/// </summary>
public sealed record FiniteKeyAnalysisReport(string Analysis, string Citation, IReadOnlyList<EpsilonShare> Epsilons)
{
    public static FiniteKeyAnalysisReport From(DistillationOptions options)
    {
        var analysis = options.Analysis;
        return new FiniteKeyAnalysisReport(FiniteKeyAnalyses.Name(analysis.Kind), analysis.Citation, analysis.Epsilons(options.Security));
    }
}

/// <summary>
/// One block's decoy bounds, phase error and finite-key terms, counts not rates (null where undefined, for example no
/// phase error bound when no single photon was certified), and the analysis that produced them (its epsilons are in
/// <see cref="FiniteKeyAnalysisReport"/>). key = vacuumTerm + singlePhotonTerm - errorCorrectionLeak -
/// verificationAndSecrecyCost, floored at 0; phaseErrorRateZUpper = singlePhotonErrorRateXUpper + samplingDeviation.
/// </summary>
public sealed record FiniteKeyBlockReport(
    string Analysis,
    double? VacuumEventsZLower,
    double? VacuumEventsZUpper,
    double? SinglePhotonEventsZLower,
    double? VacuumEventsXLower,
    double? SinglePhotonEventsXLower,
    double? SinglePhotonErrorsXUpper,
    double? SinglePhotonErrorRateXUpper,
    double? PhaseErrorRateZUpper,
    double? SamplingDeviation,
    double? VacuumTerm,
    double? SinglePhotonTerm,
    double? ErrorCorrectionLeak,
    double? VerificationAndSecrecyCost,
    double? KeyLengthBound,
    string? Problem)
{
    /// <summary>The block's report, or null when estimation did not run; <paramref name="analysis"/> sized the block.</summary>
    public static FiniteKeyBlockReport? From(BlockResult block, FiniteKeyAnalysisKind analysis)
    {
        if (block.Bounds is not { } b) return null;
        var k = block.KeyLength;
        return new FiniteKeyBlockReport(FiniteKeyAnalyses.Name(analysis), Finite(b.VacuumEventsZLower), Finite(b.VacuumEventsZUpper),
            Finite(b.SinglePhotonEventsZLower), Finite(b.VacuumEventsXLower), Finite(b.SinglePhotonEventsXLower), Finite(b.SinglePhotonErrorsXUpper),
            Finite(b.SinglePhotonErrorRateXUpper), Finite(b.PhaseErrorRateZUpper), Finite(b.PhaseErrorRateZUpper - b.SinglePhotonErrorRateXUpper),
            Finite(k?.VacuumTerm), Finite(k?.SinglePhotonTerm), Finite(k?.ErrorCorrectionLeak),
            Finite(k?.VerificationAndSecrecyCost), Finite(k?.RawValue), b.Problem);
    }

    private static double? Finite(double? value) => value is double v && double.IsFinite(v) ? v : null;
}
