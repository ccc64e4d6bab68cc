namespace Qkd.Distillation.ParameterEstimation;

/// <summary>
/// Lim, Curty, Walenta, Xu, Zbinden, PRA 89, 022307 (2014): two decoys (signal mu1, decoy mu2, vacuum mu3) with
/// Hoeffding's additive bound on every class, epsilon_sec split into 21 equal parts (<see cref="DecoyStateEstimator"/>,
/// <see cref="FiniteKeyLength"/>).
/// </summary>
public sealed class Lim2014Analysis : IFiniteKeyAnalysis
{
    public static Lim2014Analysis Instance { get; } = new();

    public FiniteKeyAnalysisKind Kind => FiniteKeyAnalysisKind.Lim2014;
    public string Citation => "Lim, Curty, Walenta, Xu, Zbinden, PRA 89, 022307 (2014)";
    public bool UsesKeyErrors => false;

    public void Validate(double[] meanPhotonNumbers, double[] probabilities) =>
        new DecoyStatistics(meanPhotonNumbers, probabilities, [0, 0, 0], [0, 0, 0], [0, 0, 0]).Validate();

    public DecoyStateBounds Estimate(DecoyStatistics statistics, long[]? errorsZ, SecurityParameters security) =>
        DecoyStateEstimator.Estimate(statistics, security);

    public KeyLength KeyLength(DecoyStateBounds bounds, long errorCorrectionLeakBits, int verificationTagBits, SecurityParameters security) =>
        FiniteKeyLength.Compute(bounds, errorCorrectionLeakBits, verificationTagBits, security);

    public IReadOnlyList<EpsilonShare> Epsilons(SecurityParameters security) =>
        TwoDecoyEpsilons.For(security, "Hoeffding bound on each expected count, each side");
}
