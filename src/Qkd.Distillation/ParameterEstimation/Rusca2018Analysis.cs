using Qkd.Core;

namespace Qkd.Distillation.ParameterEstimation;

/// <summary>
/// The one-decoy analysis of Rusca, Boaron, Grünenfelder, Martin, Zbinden, "Finite-key analysis for the 1-decoy state
/// QKD protocol", APL 112, 171104 (2018), arXiv:1801.03443, Appendix A, with the key in Z and X for testing. Two
/// intensities mu1 = signal &gt; mu2 = decoy; the vacuum class may be absent (probability 0) and, when present, is only
/// part of n_Z and tau_n, never an equation. With eps = epsilon_sec/19, delta(n, eps) = sqrt(n/2 ln(1/eps)) and
/// n^(+-)_(B,k) = (e^k/p_k)(n_(B,k) +- delta(n_B, eps)) (the e^k/p_k factor, which Eq. A18 as printed omits, as Eq. A10
/// and Lim et al. need):
/// <code>
/// s^u_(B,0) = 2 [ tau0 (e^mu2/p_mu2)(m_(B,mu2) + delta(m_B, eps)) + delta(n_B, eps) ]                         (A16)
/// s^l_(B,1) = tau1 mu1 / (mu2 (mu1 - mu2)) [ n^-_(B,mu2) - (mu2/mu1)^2 n^+_(B,mu1) - (mu1^2 - mu2^2)/mu1^2 s^u_(B,0)/tau0 ]  (A17)
/// s^l_(Z,0) = tau0 / (mu1 - mu2) [ mu1 n^-_(Z,mu2) - mu2 n^+_(Z,mu1) ]                                        (A19)
/// v^u_(X,1) = tau1 / (mu1 - mu2) ( m^+_(X,mu1) - m^-_(X,mu2) ),  m^(+-) with delta(m_X, eps)                   (A22)
/// phi_Z    &lt;= v^u_(X,1)/s^l_(X,1) + gamma(epsilon_sec, v^u_(X,1)/s^l_(X,1), s^l_(Z,1), s^l_(X,1)), gamma with 19  (A23)
/// l = floor( s^l_(Z,0) + s^l_(Z,1) (1 - h(phi_Z)) - lambda_EC - 6 log2(19/epsilon_sec) - log2(2/epsilon_cor) )  (A25)
/// </code>
/// The vacuum bound of the key basis uses the Z errors of the decoy class, m_(Z,mu2), known only after error correction:
/// Bob counts them and sends them to Alice (<see cref="Messages.KeyErrorCounts"/>). Before correction (errorsZ null) the
/// estimate takes m_(Z,mu2) = 0, the most favourable case, only to decide whether correcting is worth it. The same
/// clamps as <see cref="DecoyStateEstimator"/> keep every bound valid (counts +- delta within [0, n_B], lower bounds
/// raised to 0, s_1 capped at n_B - s_0).
/// </summary>
public sealed class Rusca2018Analysis : IFiniteKeyAnalysis
{
    /// <summary>Rusca et al. set all 19 error terms of Eq. A24 equal: each estimate fails with probability epsilon_sec/19.</summary>
    public const double SecrecySplit = 19;

    public static Rusca2018Analysis Instance { get; } = new();

    public FiniteKeyAnalysisKind Kind => FiniteKeyAnalysisKind.Rusca2018;
    public string Citation => "Rusca, Boaron, Grünenfelder, Martin, Zbinden, APL 112, 171104 (2018)";
    public bool UsesKeyErrors => true;

    public void Validate(double[] meanPhotonNumbers, double[] probabilities) =>
        new DecoyStatistics(meanPhotonNumbers, probabilities, [0, 0, 0], [0, 0, 0], [0, 0, 0]).Validate(requireVacuumClass: false);

    public DecoyStateBounds Estimate(DecoyStatistics statistics, long[]? errorsZ, SecurityParameters security)
    {
        ArgumentNullException.ThrowIfNull(statistics);
        ArgumentNullException.ThrowIfNull(security);
        statistics.Validate(requireVacuumClass: false);
        security.Validate();
        if (errorsZ is not null)
        {
            if (errorsZ.Length != Intensities.Count)
                throw new ArgumentException($"{nameof(errorsZ)} must have {Intensities.Count} entries (Signal, Decoy, Vacuum), got {errorsZ.Length}.", nameof(errorsZ));
            for (int k = 0; k < Intensities.Count; k++)
                if (errorsZ[k] < 0 || errorsZ[k] > statistics.DetectionsZ[k])
                    throw new ArgumentException($"{nameof(errorsZ)}[{(Intensity)k}] = {errorsZ[k]} must lie in [0, {statistics.DetectionsZ[k]}].", nameof(errorsZ));
        }

        double[] mu = statistics.MeanPhotonNumbers, p = statistics.Probabilities;
        double eps = security.EpsilonSecrecy / SecrecySplit;
        double tau0 = FiniteSizeStatistics.PhotonNumberProbability(0, mu, p);
        double tau1 = FiniteSizeStatistics.PhotonNumberProbability(1, mu, p);

        var z = BasisBounds(statistics.DetectionsZ, errorsZ ?? [0, 0, 0], mu, p, eps, tau0, tau1);
        var x = BasisBounds(statistics.DetectionsX, statistics.ErrorsX, mu, p, eps, tau0, tau1);
        double errorsUpper = SinglePhotonErrorsUpper(statistics.ErrorsX, mu, p, eps, tau1);

        DecoyStateBounds Result(double rate, double phi, string? problem) =>
            new(z.VacuumLower, z.SinglePhoton, x.VacuumLower, x.SinglePhoton, errorsUpper, rate, phi, problem) { VacuumEventsZUpper = z.VacuumUpper };

        if (!(z.SinglePhoton > 0))
            return Result(double.NaN, double.NaN,
                $"no single-photon detections can be certified in the Z basis (Eq. A17 gives {z.SinglePhotonRaw:G4}); too few detections or too much loss for the one-decoy bound");
        if (!(x.SinglePhoton > 0))
            return Result(double.NaN, double.NaN,
                $"no single-photon detections can be certified in the X basis (Eq. A17 gives {x.SinglePhotonRaw:G4}), so the phase error rate cannot be bounded");
        double errorRate = errorsUpper / x.SinglePhoton;
        if (errorRate >= 0.5)
            return Result(errorRate, double.NaN,
                $"the single-photon X error rate bound is {errorRate:P1}, at or above 50%, so the single-photon events carry no secrecy");
        double phi = errorRate + FiniteSizeStatistics.SamplingDeviation(security.EpsilonSecrecy, errorRate, z.SinglePhoton, x.SinglePhoton, SecrecySplit);
        return Result(errorRate, phi, phi >= 0.5
            ? $"the phase error bound phi_Z = {phi:P1} (single-photon X error rate {errorRate:P2} plus sampling deviation) is at or above 50%"
            : null);
    }

    public KeyLength KeyLength(DecoyStateBounds bounds, long errorCorrectionLeakBits, int verificationTagBits, SecurityParameters security) =>
        FiniteKeyLength.Compute(bounds, errorCorrectionLeakBits, verificationTagBits, security, SecrecySplit);

    public IReadOnlyList<EpsilonShare> Epsilons(SecurityParameters security)
    {
        double share = security.EpsilonSecrecy / SecrecySplit;
        return
        [
            new("eps_sec", security.EpsilonSecrecy, "secrecy of the final key (trace distance to an ideal key)"),
            new("eps_cor", security.EpsilonCorrectness, "correctness: the verification hash lets unequal keys pass"),
            new("eps_sec/19", share, "each of the 19 equal error terms of Rusca et al. 2018, Eq. A24: 2(a1 + 2 a2 + a3) + nu + 6 eps1 + 4 eps2"),
            new("eps1", share, "Hoeffding bound on the expected detections n_B,k (Eq. A2), each side"),
            new("eps2", share, "Hoeffding bound on the expected errors m_B,k (Eq. A4), each side"),
            new("eps_gamma, eps_bar, eps_PA", share, "random sampling (Eq. A20), smoothing and hashing: 6 log2(19/eps_sec) bits"),
        ];
    }

    private static Bounds BasisBounds(long[] counts, long[] errors, double[] mu, double[] p, double eps, double tau0, double tau1)
    {
        double mu1 = mu[(int)Intensity.Signal], mu2 = mu[(int)Intensity.Decoy];
        double total = (double)counts[0] + counts[1] + counts[2];
        double errorTotal = (double)errors[0] + errors[1] + errors[2];
        double delta = FiniteSizeStatistics.HoeffdingDeviation(total, eps);
        double errorDelta = FiniteSizeStatistics.HoeffdingDeviation(errorTotal, eps);
        double upper1 = Weighted(counts[(int)Intensity.Signal] + delta, Intensity.Signal, total, mu, p);
        double lower2 = Weighted(counts[(int)Intensity.Decoy] - delta, Intensity.Decoy, total, mu, p);

        // (A16): vacuum clicks err with probability 1/2, so twice the (bounded) vacuum share of the decoy errors bounds them.
        double vacuumUpper = 2 * (tau0 * Weighted(errors[(int)Intensity.Decoy] + errorDelta, Intensity.Decoy, errorTotal, mu, p) + delta);
        vacuumUpper = Math.Min(vacuumUpper, total);
        double vacuumLower = Math.Clamp(tau0 / (mu1 - mu2) * (mu1 * lower2 - mu2 * upper1), 0, total);

        // s_0 enters with a negative sign, so its upper bound keeps s_1 a lower bound.
        double singleRaw = tau1 * mu1 / (mu2 * (mu1 - mu2))
                           * (lower2 - mu2 * mu2 / (mu1 * mu1) * upper1 - (mu1 * mu1 - mu2 * mu2) / (mu1 * mu1) * vacuumUpper / tau0);
        double single = Math.Clamp(singleRaw, 0, total - vacuumLower);
        return new Bounds(vacuumLower, vacuumUpper, single, singleRaw);
    }

    /// <summary>(A22), with delta over all X errors m_X.</summary>
    private static double SinglePhotonErrorsUpper(long[] errors, double[] mu, double[] p, double eps, double tau1)
    {
        double mu1 = mu[(int)Intensity.Signal], mu2 = mu[(int)Intensity.Decoy];
        double total = (double)errors[0] + errors[1] + errors[2];
        double delta = FiniteSizeStatistics.HoeffdingDeviation(total, eps);
        double upper1 = Weighted(errors[(int)Intensity.Signal] + delta, Intensity.Signal, total, mu, p);
        double lower2 = Weighted(errors[(int)Intensity.Decoy] - delta, Intensity.Decoy, total, mu, p);
        return Math.Max(0, tau1 / (mu1 - mu2) * (upper1 - lower2));
    }

    /// <summary>(e^(mu_k) / p_k) clamp(bound, 0, total).</summary>
    private static double Weighted(double bound, Intensity k, double total, double[] mu, double[] p) =>
        Math.Exp(mu[(int)k]) / p[(int)k] * Math.Clamp(bound, 0, total);

    private readonly record struct Bounds(double VacuumLower, double VacuumUpper, double SinglePhoton, double SinglePhotonRaw);
}
