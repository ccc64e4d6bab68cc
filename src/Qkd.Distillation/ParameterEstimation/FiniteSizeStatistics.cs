namespace Qkd.Distillation.ParameterEstimation;

/// <summary>
/// The statistical ingredients of Lim, Curty, Walenta, Xu, Zbinden, "Concise security bounds for practical decoy-state
/// quantum key distribution", PRA 89, 022307 (2014), arXiv:1311.7129.
/// </summary>
public static class FiniteSizeStatistics
{
    /// <summary>
    /// Lim et al. split epsilon_sec into 21 equal failure probabilities (supplementary Eq. 14); every estimate below runs
    /// at epsilon_sec / 21, and the key length pays 6 log2(21 / epsilon_sec) for the smoothing and hashing terms.
    /// </summary>
    public const double SecrecySplit = 21;

    /// <summary>
    /// Hoeffding deviation delta(n, eps) = sqrt(n/2 ln(1/eps)) (natural log): the observed count of a class of n detections
    /// differs from its expectation by more than delta with probability at most 2 eps (Lim et al., below Eq. 2).
    /// </summary>
    public static double HoeffdingDeviation(double n, double epsilon)
    {
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n), n, "A count cannot be negative.");
        if (!(epsilon > 0 && epsilon < 1)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must lie in (0, 1).");
        return Math.Sqrt(n / 2 * Math.Log(1 / epsilon));
    }

    /// <summary>
    /// tau_n = sum_k p_k e^(-mu_k) mu_k^n / n!: the probability that Alice sends n photons, averaged over her intensity choice.
    /// </summary>
    public static double PhotonNumberProbability(int n, ReadOnlySpan<double> meanPhotonNumbers, ReadOnlySpan<double> probabilities)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (meanPhotonNumbers.Length != probabilities.Length)
            throw new ArgumentException("One probability per intensity is needed.", nameof(probabilities));
        double factorial = 1;
        for (int i = 2; i <= n; i++) factorial *= i;
        double tau = 0;
        for (int k = 0; k < meanPhotonNumbers.Length; k++)
        {
            double mu = meanPhotonNumbers[k];
            tau += probabilities[k] * Math.Exp(-mu) * Math.Pow(mu, n);
        }
        return tau / factorial;
    }

    /// <summary>
    /// gamma(a, b, c, d) = sqrt((c+d)(1-b)b / (c d ln 2) * log2((c+d)/(c d (1-b) b) * 21^2/a^2)) (Lim et al., Eq. 5, main-text
    /// form, which takes a = epsilon_sec and carries the 21^2 itself): the random-sampling deviation between the phase
    /// error rate of the c single-photon Z events and the error rate b observed on the d single-photon X events.
    /// <para>
    /// The formula is undefined at b = 0 (it was derived for a nonzero observed rate), which happens when the X basis shows
    /// no errors at all. There the Serfling bound for sampling without replacement is used instead, which needs no rate:
    /// gamma = ((c+d)/c) sqrt((1 - (d-1)/(c+d)) ln(21/a) / (2d)), at the same failure probability a/21.
    /// </para>
    /// </summary>
    /// <param name="secrecySplit">Parts epsilon_sec is split into (21 for Lim et al.; the one-decoy analysis of Rusca et al. 2018 uses 19).</param>
    public static double SamplingDeviation(double epsilonSecrecy, double observedRate, double keyEvents, double testEvents, double secrecySplit = SecrecySplit)
    {
        if (!(epsilonSecrecy > 0 && epsilonSecrecy < 1))
            throw new ArgumentOutOfRangeException(nameof(epsilonSecrecy), epsilonSecrecy, "epsilon_sec must lie in (0, 1).");
        if (!(observedRate >= 0 && observedRate < 1))
            throw new ArgumentOutOfRangeException(nameof(observedRate), observedRate, "The observed error rate must lie in [0, 1).");
        if (!(keyEvents > 0) || !(testEvents > 0))
            throw new ArgumentOutOfRangeException(nameof(keyEvents), $"Both event counts must be positive, got {keyEvents} and {testEvents}.");
        double a = epsilonSecrecy, b = observedRate, c = keyEvents, d = testEvents;
        if (b == 0)
        {
            double total = c + d;
            return total / c * Math.Sqrt((1 - (d - 1) / total) * Math.Log(secrecySplit / a) / (2 * d));
        }
        double variance = (c + d) * (1 - b) * b / (c * d * Math.Log(2));
        double argument = (c + d) / (c * d * (1 - b) * b) * (secrecySplit * secrecySplit) / (a * a);
        return argument <= 1 ? 0 : Math.Sqrt(variance * Math.Log2(argument));
    }
}
