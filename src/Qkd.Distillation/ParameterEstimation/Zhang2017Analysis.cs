namespace Qkd.Distillation.ParameterEstimation;

/// <summary>
/// Lim et al.'s two-decoy bounds (Eqs. 2-5, epsilon_sec split into 21) with every expected class count bracketed by the
/// multiplicative Chernoff bound of Zhang, Zhao, Razavi, Ma, PRA 95, 012333 (2017) (<see cref="ChernoffBound"/>)
/// instead of Hoeffding's. The decoy equations, their clamps, the phase-error step and the key length are Lim's
/// unchanged; only n^(+-)_(B,k) and m^(+-)_(X,k) differ:
/// <code>
/// n^-_(B,k) = (e^(mu_k)/p_k) E^L(n_(B,k)),   n^+_(B,k) = (e^(mu_k)/p_k) E^U(n_(B,k)),   D(n || E^(L,U)) = ln(21/epsilon_sec)
/// </code>
/// Why it holds where Lim's Hoeffding step holds: given the photon numbers of the detected pulses (what Eve can act on),
/// each detection's intensity label is an independent draw with probability p_(k|n), so n_(B,k) is a sum of independent
/// Bernoulli variables with mean n*_(B,k) = sum_n p_(k|n) s_(B,n): Hoeffding's and Chernoff's inequalities both apply,
/// and each one-sided bound here fails with probability at most epsilon_sec/21, the share Lim et al. give each estimate.
/// The gain is largest for the small classes (vacuum and decoy counts, X errors), whose Hoeffding width is set by the
/// whole basis count.
/// </summary>
public sealed class Zhang2017Analysis : IFiniteKeyAnalysis
{
    public static Zhang2017Analysis Instance { get; } = new();

    public FiniteKeyAnalysisKind Kind => FiniteKeyAnalysisKind.Zhang2017;
    public string Citation => "Lim et al., PRA 89, 022307 (2014) with the Chernoff bounds of Zhang, Zhao, Razavi, Ma, PRA 95, 012333 (2017)";
    public bool UsesKeyErrors => false;

    public void Validate(double[] meanPhotonNumbers, double[] probabilities) =>
        new DecoyStatistics(meanPhotonNumbers, probabilities, [0, 0, 0], [0, 0, 0], [0, 0, 0]).Validate();

    public DecoyStateBounds Estimate(DecoyStatistics statistics, long[]? errorsZ, SecurityParameters security) =>
        DecoyStateEstimator.Estimate(statistics, security, ChernoffInterval);

    public KeyLength KeyLength(DecoyStateBounds bounds, long errorCorrectionLeakBits, int verificationTagBits, SecurityParameters security) =>
        FiniteKeyLength.Compute(bounds, errorCorrectionLeakBits, verificationTagBits, security);

    public IReadOnlyList<EpsilonShare> Epsilons(SecurityParameters security) =>
        TwoDecoyEpsilons.For(security, "multiplicative Chernoff bound on each expected count, each side");

    private static (double Lower, double Upper) ChernoffInterval(long count, double total, double epsilon, double predictedFraction) =>
        (ChernoffBound.LowerMean(count, epsilon), ChernoffBound.UpperMean(count, epsilon));
}
