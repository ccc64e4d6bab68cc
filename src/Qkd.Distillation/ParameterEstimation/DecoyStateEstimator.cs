using Qkd.Core;

namespace Qkd.Distillation.ParameterEstimation;

/// <summary>
/// Finite-size decoy-state estimation for three intensities mu1 &gt; mu2 + mu3, mu2 &gt; mu3 &gt;= 0, exactly as in Lim,
/// Curty, Walenta, Xu, Zbinden, PRA 89, 022307 (2014), arXiv:1311.7129, with the key in the Z basis and the X basis used
/// for testing (the paper's roles of X and Z swapped). With eps = epsilon_sec / 21, delta(n, eps) = sqrt(n/2 ln(1/eps)),
/// tau_n = sum_k e^(-mu_k) mu_k^n p_k / n! and, for basis B with n_B detections,
/// n^(+-)_(B,k) = (e^(mu_k) / p_k) (n_(B,k) +- delta(n_B, eps)):
/// <code>
/// s_(B,0) &gt;= tau0 (mu2 n^-_(B,3) - mu3 n^+_(B,2)) / (mu2 - mu3)                                                  (Eq. 2)
/// s_(B,1) &gt;= tau1 mu1 [n^-_(B,2) - n^+_(B,3) - (mu2^2 - mu3^2)/mu1^2 (n^+_(B,1) - s_(B,0)/tau0)]
///             / (mu1 (mu2 - mu3) - mu2^2 + mu3^2)                                                               (Eq. 3)
/// v_(X,1) &lt;= tau1 (m^+_(X,2) - m^-_(X,3)) / (mu2 - mu3),  m^(+-) likewise with delta(m_X, eps)                    (Eq. 4)
/// phi_Z   &lt;= v_(X,1)/s_(X,1) + gamma(epsilon_sec, v_(X,1)/s_(X,1), s_(Z,1), s_(X,1))                                (Eq. 5)
/// </code>
/// Clamps, each of which keeps the bound valid: n_(B,k) +- delta is clamped to [0, n_B], because the quantity it bounds
/// (the expected count of class k given the photon-number split) lies there; lower bounds are raised to 0 and
/// s_(B,1) capped at n_B - s_(B,0), since true counts respect both; v_(X,1) is raised to 0. Anything that leaves no
/// certified single-photon event, or a phase error bound of 1/2 or more, is reported in
/// <see cref="DecoyStateBounds.Problem"/> rather than thrown: it is an outcome of the link, not a programming error.
/// </summary>
public static class DecoyStateEstimator
{
    /// <summary>Computes the bounds; throws <see cref="ArgumentException"/> only for inconsistent inputs.</summary>
    public static DecoyStateBounds Estimate(DecoyStatistics statistics, SecurityParameters security) =>
        Estimate(statistics, security, HoeffdingInterval);

    /// <summary>
    /// Bounds on the expected count of one intensity class given its observed count, the total count of its basis
    /// (or of errors) and the failure probability of each side: Lim et al. use Hoeffding's count +- delta(total, eps).
    /// <paramref name="predictedFraction"/> is the class's share of the total as predicted independently of these counts
    /// (<see cref="CountPredictions"/>), NaN when there is none; only Kato's bound uses it.
    /// </summary>
    internal delegate (double Lower, double Upper) ExpectedCountInterval(long count, double total, double epsilon, double predictedFraction);

    /// <summary>
    /// Per intensity, the predicted share of each count family (Z detections, X detections, X errors), fixed independently
    /// of the counts it will bound; null arrays mean no prediction.
    /// </summary>
    internal sealed record CountPredictions(double[]? DetectionsZ, double[]? DetectionsX, double[]? ErrorsX);

    internal static (double Lower, double Upper) HoeffdingInterval(long count, double total, double epsilon, double predictedFraction)
    {
        double delta = FiniteSizeStatistics.HoeffdingDeviation(total, epsilon);
        return (count - delta, count + delta);
    }

    /// <summary>
    /// The random-sampling step of Eq. 5: how far the phase error rate of the <paramref name="keyEvents"/> single-photon Z
    /// events may lie above the rate <paramref name="observedRate"/> seen on the <paramref name="testEvents"/> single-photon
    /// X events, at the whole epsilon_sec (the analysis takes its share). Lim et al.'s gamma unless an analysis brings its own.
    /// </summary>
    internal delegate double SamplingDeviationBound(double epsilonSecrecy, double observedRate, double keyEvents, double testEvents);

    /// <summary>Eqs. 2-5 with the expected counts of each class bracketed by <paramref name="interval"/>.</summary>
    internal static DecoyStateBounds Estimate(DecoyStatistics statistics, SecurityParameters security, ExpectedCountInterval interval,
        CountPredictions? predictions = null, SamplingDeviationBound? sampling = null)
    {
        ArgumentNullException.ThrowIfNull(statistics);
        ArgumentNullException.ThrowIfNull(security);
        statistics.Validate();
        security.Validate();

        ReadOnlySpan<double> mu = statistics.MeanPhotonNumbers;
        ReadOnlySpan<double> p = statistics.Probabilities;
        double eps = security.EpsilonSecrecy / FiniteSizeStatistics.SecrecySplit;
        double tau0 = FiniteSizeStatistics.PhotonNumberProbability(0, mu, p);
        double tau1 = FiniteSizeStatistics.PhotonNumberProbability(1, mu, p);

        var z = EventBounds(statistics.DetectionsZ, mu, p, eps, tau0, tau1, interval, predictions?.DetectionsZ);
        var x = EventBounds(statistics.DetectionsX, mu, p, eps, tau0, tau1, interval, predictions?.DetectionsX);
        double errorsUpper = SinglePhotonErrorsUpper(statistics.ErrorsX, mu, p, eps, tau1, interval, predictions?.ErrorsX);

        if (!(z.SinglePhoton > 0))
            return Unusable(z, x, errorsUpper, double.NaN,
                $"no single-photon detections can be certified in the Z basis (Eq. 3 gives {z.SinglePhotonRaw:G4}); too few detections or too much loss for the decoy-state bound");
        if (!(x.SinglePhoton > 0))
            return Unusable(z, x, errorsUpper, double.NaN,
                $"no single-photon detections can be certified in the X basis (Eq. 3 gives {x.SinglePhotonRaw:G4}), so the phase error rate cannot be bounded");

        double errorRate = errorsUpper / x.SinglePhoton;
        if (errorRate >= 0.5)
            return Unusable(z, x, errorsUpper, errorRate,
                $"the single-photon X error rate bound is {errorRate:P1}, at or above 50%, so the single-photon events carry no secrecy");

        double phi = errorRate + (sampling is null
            ? FiniteSizeStatistics.SamplingDeviation(security.EpsilonSecrecy, errorRate, z.SinglePhoton, x.SinglePhoton)
            : sampling(security.EpsilonSecrecy, errorRate, z.SinglePhoton, x.SinglePhoton));
        string? problem = phi >= 0.5
            ? $"the phase error bound phi_Z = {phi:P1} (single-photon X error rate {errorRate:P2} plus sampling deviation) is at or above 50%"
            : null;
        return new DecoyStateBounds(z.Vacuum, z.SinglePhoton, x.Vacuum, x.SinglePhoton, errorsUpper, errorRate, phi, problem);
    }

    private static DecoyStateBounds Unusable(in BasisBounds z, in BasisBounds x, double errorsUpper, double errorRate, string problem) =>
        new(z.Vacuum, z.SinglePhoton, x.Vacuum, x.SinglePhoton, errorsUpper, errorRate, double.NaN, problem);

    /// <summary>Lower bounds on vacuum and single-photon events (Eqs. 2 and 3) for one basis.</summary>
    private static BasisBounds EventBounds(long[] counts, ReadOnlySpan<double> mu, ReadOnlySpan<double> p, double eps, double tau0, double tau1,
        ExpectedCountInterval interval, double[]? predicted)
    {
        double mu1 = mu[(int)Intensity.Signal], mu2 = mu[(int)Intensity.Decoy], mu3 = mu[(int)Intensity.Vacuum];
        double total = (double)counts[0] + counts[1] + counts[2];
        var signal = interval(counts[(int)Intensity.Signal], total, eps, Share(predicted, Intensity.Signal));
        var decoy = interval(counts[(int)Intensity.Decoy], total, eps, Share(predicted, Intensity.Decoy));
        var vacuumClass = interval(counts[(int)Intensity.Vacuum], total, eps, Share(predicted, Intensity.Vacuum));
        double upper1 = Bracket(signal.Upper, Intensity.Signal, total, mu, p);
        double upper2 = Bracket(decoy.Upper, Intensity.Decoy, total, mu, p);
        double lower2 = Bracket(decoy.Lower, Intensity.Decoy, total, mu, p);
        double upper3 = Bracket(vacuumClass.Upper, Intensity.Vacuum, total, mu, p);
        double lower3 = Bracket(vacuumClass.Lower, Intensity.Vacuum, total, mu, p);

        double vacuum = tau0 * (mu2 * lower3 - mu3 * upper2) / (mu2 - mu3);
        vacuum = Math.Clamp(vacuum, 0, total);

        // s_0 enters with a positive sign, so its lower bound keeps s_1 a lower bound.
        double singleRaw = tau1 * mu1 * (lower2 - upper3 - (mu2 * mu2 - mu3 * mu3) / (mu1 * mu1) * (upper1 - vacuum / tau0))
                           / (mu1 * (mu2 - mu3) - mu2 * mu2 + mu3 * mu3);
        double single = Math.Clamp(singleRaw, 0, total - vacuum);
        return new BasisBounds(vacuum, single, singleRaw);
    }

    /// <summary>Upper bound on single-photon X errors (Eq. 4), with delta taken over all X errors m_X.</summary>
    private static double SinglePhotonErrorsUpper(long[] errors, ReadOnlySpan<double> mu, ReadOnlySpan<double> p, double eps, double tau1,
        ExpectedCountInterval interval, double[]? predicted)
    {
        double mu2 = mu[(int)Intensity.Decoy], mu3 = mu[(int)Intensity.Vacuum];
        double total = (double)errors[0] + errors[1] + errors[2];
        double upper2 = Bracket(interval(errors[(int)Intensity.Decoy], total, eps, Share(predicted, Intensity.Decoy)).Upper, Intensity.Decoy, total, mu, p);
        double lower3 = Bracket(interval(errors[(int)Intensity.Vacuum], total, eps, Share(predicted, Intensity.Vacuum)).Lower, Intensity.Vacuum, total, mu, p);
        return Math.Max(0, tau1 * (upper2 - lower3) / (mu2 - mu3));
    }

    private static double Share(double[]? predicted, Intensity k) => predicted is null ? double.NaN : predicted[(int)k];

    /// <summary>(e^(mu_k) / p_k) clamp(expected count bound, 0, total).</summary>
    private static double Bracket(double bound, Intensity k, double total, ReadOnlySpan<double> mu, ReadOnlySpan<double> p) =>
        Math.Exp(mu[(int)k]) / p[(int)k] * Math.Clamp(bound, 0, total);

    private readonly record struct BasisBounds(double Vacuum, double SinglePhoton, double SinglePhotonRaw);
}
