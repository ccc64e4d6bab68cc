using Qkd.Core;

namespace Qkd.Distillation.ParameterEstimation;

/// <summary>
/// Lim et al.'s two-decoy bounds (Eqs. 2-5, epsilon_sec split into 21) with every expected class count bracketed by
/// Kato's inequality (<see cref="KatoInequality"/>) as Currás-Lorenzo, Navarrete, Azuma, Kato, Curty, Razavi, npj
/// Quantum Inf. 7, 22 (2021) use it, instead of Hoeffding's (lim2014) or Chernoff's (zhang2017) bound. The decoy
/// equations, their clamps, the phase-error step and the key length are Lim's unchanged; only n^(+-)_(B,k) and
/// m^(+-)_(X,k) differ. For the class k of basis B the trials are the n_B detections of that basis, xi_u = 1 when
/// detection u was sent with intensity k, and the sum of their expectations is the expected count n*_(B,k) that Lim's
/// equations need (given the photon numbers of the detected pulses each label is drawn with probability p_(k|n)).
/// <para>
/// Kato's coefficients must be fixed before the counts they bound are seen, so each family is predicted from counts
/// that are independent of it (given the photon numbers, the labels of disjoint sets of detections are independent):
/// </para>
/// <list type="bullet">
/// <item>Z detections per intensity: the shares of the X detections, and the X detections from the Z shares (the basis
/// choice does not depend on the intensity, so both bases share the intensity mix);</item>
/// <item>X errors per intensity: the shares of the Z errors per intensity, which error correction finds; Bob sends them
/// (<see cref="Messages.KeyErrorCounts"/>, <see cref="UsesKeyErrors"/>). Before correction the X errors' own shares
/// stand in (favourable, only to decide whether correcting is worth it, never to size a key).</item>
/// </list>
/// A poor prediction only widens the interval (towards Hoeffding's width); with a good one the width is that of the
/// binomial variance, sqrt(2 n_B q (1 - q) ln(1/eps)) for a class of share q, where Chernoff's is sqrt(2 n_B q ln(1/eps)):
/// the gain is on the large classes (the signal counts), the small ones get about Chernoff's width.
/// </summary>
public sealed class CurrasLorenzo2021Analysis : IFiniteKeyAnalysis
{
    public static CurrasLorenzo2021Analysis Instance { get; } = new();

    public FiniteKeyAnalysisKind Kind => FiniteKeyAnalysisKind.CurrasLorenzo2021;
    public string Citation => "Lim et al., PRA 89, 022307 (2014) with Kato's inequality as in Currás-Lorenzo, Navarrete, Azuma, Kato, Curty, Razavi, npj Quantum Inf. 7, 22 (2021)";
    public bool UsesKeyErrors => true;

    public void Validate(double[] meanPhotonNumbers, double[] probabilities) =>
        new DecoyStatistics(meanPhotonNumbers, probabilities, [0, 0, 0], [0, 0, 0], [0, 0, 0]).Validate();

    public DecoyStateBounds Estimate(DecoyStatistics statistics, long[]? errorsZ, SecurityParameters security)
    {
        ArgumentNullException.ThrowIfNull(statistics);
        statistics.Validate();
        if (errorsZ is not null)
        {
            if (errorsZ.Length != Intensities.Count)
                throw new ArgumentException($"{nameof(errorsZ)} must have {Intensities.Count} entries (Signal, Decoy, Vacuum), got {errorsZ.Length}.", nameof(errorsZ));
            for (int k = 0; k < Intensities.Count; k++)
                if (errorsZ[k] < 0 || errorsZ[k] > statistics.DetectionsZ[k])
                    throw new ArgumentException($"{nameof(errorsZ)}[{(Intensity)k}] = {errorsZ[k]} must lie in [0, {statistics.DetectionsZ[k]}].", nameof(errorsZ));
        }
        var predictions = new DecoyStateEstimator.CountPredictions(
            DetectionsZ: Shares(statistics.DetectionsX),
            DetectionsX: Shares(statistics.DetectionsZ),
            ErrorsX: Shares(errorsZ ?? statistics.ErrorsX));
        return DecoyStateEstimator.Estimate(statistics, security, KatoInterval, predictions);
    }

    public KeyLength KeyLength(DecoyStateBounds bounds, long errorCorrectionLeakBits, int verificationTagBits, SecurityParameters security) =>
        FiniteKeyLength.Compute(bounds, errorCorrectionLeakBits, verificationTagBits, security);

    public IReadOnlyList<EpsilonShare> Epsilons(SecurityParameters security) =>
        TwoDecoyEpsilons.For(security, "Kato's inequality on each expected count, each side, coefficients from the other basis's shares (Z errors for X errors)");

    /// <summary>
    /// Each intensity's share of the counts, with half a count added to each class so that a class the other basis
    /// happened not to see is predicted small rather than impossible (a share of 0 or 1 would stake the whole bound on
    /// it); null when there are no counts (no prediction: Azuma's width).
    /// </summary>
    private static double[]? Shares(long[] counts)
    {
        double total = (double)counts[0] + counts[1] + counts[2];
        if (!(total > 0)) return null;
        double smoothed = total + 1.5;
        return [(counts[0] + 0.5) / smoothed, (counts[1] + 0.5) / smoothed, (counts[2] + 0.5) / smoothed];
    }

    private static (double Lower, double Upper) KatoInterval(long count, double total, double epsilon, double predictedFraction)
    {
        double predicted = predictedFraction * total; // NaN stays NaN: no prediction
        return (KatoInequality.LowerMean(count, total, predicted, epsilon), KatoInequality.UpperMean(count, total, predicted, epsilon));
    }
}
