namespace Qkd.Distillation.ParameterEstimation;

/// <summary>
/// A finite-key analysis: from one block's decoy statistics to certified vacuum and single-photon events and a phase
/// error bound (<see cref="Estimate"/>), then to the secret length (<see cref="KeyLength"/>). One implementation per
/// paper; both ends of a link use the same one (<see cref="DistillationOptions.FiniteKeyAnalysis"/>). Every
/// implementation is O(1) in time and memory: it sees counts, never bits.
/// </summary>
public interface IFiniteKeyAnalysis
{
    FiniteKeyAnalysisKind Kind { get; }

    /// <summary>The paper, for reports.</summary>
    string Citation { get; }

    /// <summary>
    /// True when the bounds use the key-basis (Z) errors per intensity, known only after error correction (the one-decoy
    /// analysis bounds the vacuum events by them). Bob then sends them to Alice (<see cref="Messages.KeyErrorCounts"/>).
    /// </summary>
    bool UsesKeyErrors { get; }

    /// <summary>Throws <see cref="ArgumentException"/> when the intensities and probabilities do not suit the analysis.</summary>
    void Validate(double[] meanPhotonNumbers, double[] probabilities);

    /// <summary>
    /// The bounds of one block. <paramref name="errorsZ"/> are the Z errors per intensity found by error correction;
    /// null before correction, when an analysis that uses them (<see cref="UsesKeyErrors"/>) takes the most favourable
    /// value (none), so that the bounds serve only to decide whether correcting is worth it, never to size a key.
    /// </summary>
    DecoyStateBounds Estimate(DecoyStatistics statistics, long[]? errorsZ, SecurityParameters security);

    /// <summary>The secret length from the bounds, the disclosed error-correction bits and the verification tag.</summary>
    KeyLength KeyLength(DecoyStateBounds bounds, long errorCorrectionLeakBits, int verificationTagBits, SecurityParameters security);

    /// <summary>Every epsilon of the statement for these security parameters: how epsilon_sec is split, and epsilon_cor.</summary>
    IReadOnlyList<EpsilonShare> Epsilons(SecurityParameters security);
}
