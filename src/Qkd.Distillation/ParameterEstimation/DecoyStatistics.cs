using Qkd.Core;

namespace Qkd.Distillation.ParameterEstimation;

/// <summary>
/// What one block of the decoy-state protocol observed, the input of <see cref="DecoyStateEstimator"/>. Every array is
/// indexed by <see cref="Intensity"/> (Signal = mu1, Decoy = mu2, Vacuum = mu3).
/// </summary>
/// <param name="MeanPhotonNumbers">mu_k, with mu1 &gt; mu2 + mu3 and mu2 &gt; mu3 &gt;= 0.</param>
/// <param name="Probabilities">p_k, Alice's probability of choosing intensity k (positive, summing to 1).</param>
/// <param name="DetectionsZ">n_(Z,k): sifted detections where both chose Z, per intensity.</param>
/// <param name="DetectionsX">n_(X,k): sifted detections where both chose X, per intensity.</param>
/// <param name="ErrorsX">m_(X,k): bit errors among the X detections, per intensity (disclosed for estimation).</param>
public sealed record DecoyStatistics(double[] MeanPhotonNumbers, double[] Probabilities, long[] DetectionsZ, long[] DetectionsX, long[] ErrorsX)
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent input.</summary>
    public void Validate() => Validate(requireVacuumClass: true);

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the first inconsistent input. Without <paramref name="requireVacuumClass"/>
    /// the vacuum class may have probability 0: a one-decoy link sends signal and decoy pulses only.
    /// </summary>
    public void Validate(bool requireVacuumClass)
    {
        RequireLength(MeanPhotonNumbers, nameof(MeanPhotonNumbers));
        RequireLength(Probabilities, nameof(Probabilities));
        RequireLength(DetectionsZ, nameof(DetectionsZ));
        RequireLength(DetectionsX, nameof(DetectionsX));
        RequireLength(ErrorsX, nameof(ErrorsX));

        double mu1 = MeanPhotonNumbers[(int)Intensity.Signal];
        double mu2 = MeanPhotonNumbers[(int)Intensity.Decoy];
        double mu3 = MeanPhotonNumbers[(int)Intensity.Vacuum];
        if (!(double.IsFinite(mu1) && mu3 >= 0 && mu2 > mu3 && mu1 > mu2 + mu3))
            throw new ArgumentException(
                $"Mean photon numbers must satisfy mu1 > mu2 + mu3 and mu2 > mu3 >= 0 (Signal, Decoy, Vacuum); got {mu1}, {mu2}, {mu3}.",
                nameof(MeanPhotonNumbers));

        double sum = 0;
        for (int k = 0; k < Probabilities.Length; k++)
        {
            double p = Probabilities[k];
            bool mayBeZero = !requireVacuumClass && k == (int)Intensity.Vacuum;
            if (!((p > 0 || (mayBeZero && p == 0)) && p <= 1))
                throw new ArgumentException($"Every intensity probability must lie in (0, 1]; got {string.Join(", ", Probabilities)}.", nameof(Probabilities));
            sum += p;
        }
        if (Math.Abs(sum - 1) > 1e-9)
            throw new ArgumentException($"Intensity probabilities must sum to 1; they sum to {sum}.", nameof(Probabilities));

        for (int k = 0; k < Intensities.Count; k++)
        {
            var intensity = (Intensity)k;
            if (DetectionsZ[k] < 0)
                throw new ArgumentException($"{nameof(DetectionsZ)}[{intensity}] is negative ({DetectionsZ[k]}).", nameof(DetectionsZ));
            if (DetectionsX[k] < 0)
                throw new ArgumentException($"{nameof(DetectionsX)}[{intensity}] is negative ({DetectionsX[k]}).", nameof(DetectionsX));
            if (ErrorsX[k] < 0 || ErrorsX[k] > DetectionsX[k])
                throw new ArgumentException(
                    $"{nameof(ErrorsX)}[{intensity}] = {ErrorsX[k]} must lie in [0, {DetectionsX[k]}] (the X detections of that intensity).",
                    nameof(ErrorsX));
        }
    }

    private static void RequireLength<T>(T[]? values, string name)
    {
        if (values is null || values.Length != Intensities.Count)
            throw new ArgumentException($"{name} must have {Intensities.Count} entries (Signal, Decoy, Vacuum), got {values?.Length.ToString() ?? "null"}.", name);
    }
}
