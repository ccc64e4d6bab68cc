namespace Qkd.Distillation.ParameterEstimation;

/// <summary>
/// Lim et al.'s two-decoy bounds (Eqs. 2-5, epsilon_sec split into 21) with the two closed-form bounds of Yin, Zhou, Gu,
/// Xie, Lu, Chen, Sci. Rep. 10, 14312 (2020) (<see cref="Yin2020Bounds"/>): every expected class count bracketed by the
/// Chernoff bounds inverted for the observed count (E^L, E^U at epsilon_sec/21 per side, instead of Hoeffding's), and the
/// random-sampling step of Eq. 5 by gamma^U at epsilon_sec/21 instead of Lim's gamma. The decoy equations, their clamps
/// and the key length (Eq. 1, with 6 log2(21/epsilon_sec)) are Lim's unchanged. The count bounds hold where zhang2017's
/// do (given the photon numbers, each detection's intensity label is an independent draw), and are slightly looser than
/// its exact roots; the gain is in the phase error, the term that dominates the bound on a noisy or long link.
/// </summary>
public sealed class Yin2020Analysis : IFiniteKeyAnalysis
{
    public static Yin2020Analysis Instance { get; } = new();

    public FiniteKeyAnalysisKind Kind => FiniteKeyAnalysisKind.Yin2020;
    public string Citation => "Lim et al., PRA 89, 022307 (2014) with the Chernoff and random-sampling bounds of Yin, Zhou, Gu, Xie, Lu, Chen, Sci. Rep. 10, 14312 (2020)";
    public bool UsesKeyErrors => false;

    public void Validate(double[] meanPhotonNumbers, double[] probabilities) =>
        new DecoyStatistics(meanPhotonNumbers, probabilities, [0, 0, 0], [0, 0, 0], [0, 0, 0]).Validate();

    public DecoyStateBounds Estimate(DecoyStatistics statistics, long[]? errorsZ, SecurityParameters security) =>
        DecoyStateEstimator.Estimate(statistics, security, CountInterval, predictions: null, sampling: Sampling);

    public KeyLength KeyLength(DecoyStateBounds bounds, long errorCorrectionLeakBits, int verificationTagBits, SecurityParameters security) =>
        FiniteKeyLength.Compute(bounds, errorCorrectionLeakBits, verificationTagBits, security);

    public IReadOnlyList<EpsilonShare> Epsilons(SecurityParameters security)
    {
        var shares = TwoDecoyEpsilons.For(security, "Yin et al.'s closed-form Chernoff bound on each expected count, each side").ToList();
        int gamma = shares.FindIndex(e => e.Name == "eps_gamma");
        shares[gamma] = shares[gamma] with { Meaning = "random-sampling bound gamma^U of Yin et al. 2020 between the single-photon X error rate and the Z phase error rate" };
        return shares;
    }

    private static (double Lower, double Upper) CountInterval(long count, double total, double epsilon, double predictedFraction) =>
        (Yin2020Bounds.LowerMean(count, epsilon), Yin2020Bounds.UpperMean(count, epsilon));

    private static double Sampling(double epsilonSecrecy, double observedRate, double keyEvents, double testEvents) =>
        Yin2020Bounds.SamplingDeviation(epsilonSecrecy / FiniteSizeStatistics.SecrecySplit, observedRate, keyEvents, testEvents);
}
