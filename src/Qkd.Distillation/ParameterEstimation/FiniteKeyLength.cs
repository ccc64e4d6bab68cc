using Qkd.Distillation.ErrorCorrection;

namespace Qkd.Distillation.ParameterEstimation;

/// <summary>
/// The secret key length of Lim et al. 2014, Eq. 1, with the key in the Z basis:
/// <code>
/// l = floor( s_(Z,0) + s_(Z,1) (1 - h(phi_Z)) - lambda_EC - 6 log2(21/epsilon_sec) - log2(2/epsilon_cor) )
/// </code>
/// where the log2(2/epsilon_cor) term is the verification tag; when the disclosed tag is longer, its actual length is
/// charged instead. A key of that length, extracted by 2-universal hashing, is epsilon_sec-secret (the leftover hash
/// lemma: the hash must come from the whole family, so the Toeplitz seed is drawn in full, see ToeplitzSeed).
/// </summary>
public static class FiniteKeyLength
{
    /// <summary>
    /// Computes the key length; returns 0 bits with a reason whenever there is no key, and throws
    /// <see cref="ArgumentException"/> only for invalid inputs (negative leak or tag, inconsistent bounds).
    /// </summary>
    /// <param name="bounds">Decoy-state bounds of the block.</param>
    /// <param name="errorCorrectionLeakBits">lambda_EC: every bit disclosed during error correction.</param>
    /// <param name="verificationTagBits">Bits of the verification tag actually disclosed.</param>
    /// <param name="security">The epsilons.</param>
    public static KeyLength Compute(DecoyStateBounds bounds, long errorCorrectionLeakBits, int verificationTagBits, SecurityParameters security) =>
        Compute(bounds, errorCorrectionLeakBits, verificationTagBits, security, FiniteSizeStatistics.SecrecySplit);

    /// <summary>
    /// The same length with epsilon_sec split into <paramref name="secrecySplit"/> equal parts instead of Lim's 21: the
    /// analyses built on Lim et al.'s security statement differ only in how many estimates share epsilon_sec (Rusca et
    /// al. 2018, Eq. A24-A25: 19), so the cost term is 6 log2(split/epsilon_sec).
    /// </summary>
    public static KeyLength Compute(DecoyStateBounds bounds, long errorCorrectionLeakBits, int verificationTagBits, SecurityParameters security,
        double secrecySplit)
    {
        if (!(secrecySplit >= 1)) throw new ArgumentOutOfRangeException(nameof(secrecySplit), secrecySplit, "The split of epsilon_sec must be at least 1.");
        ArgumentNullException.ThrowIfNull(bounds);
        ArgumentNullException.ThrowIfNull(security);
        security.Validate();
        ArgumentOutOfRangeException.ThrowIfNegative(errorCorrectionLeakBits);
        ArgumentOutOfRangeException.ThrowIfNegative(verificationTagBits);
        if (!(bounds.VacuumEventsZLower >= 0 && double.IsFinite(bounds.VacuumEventsZLower)))
            throw new ArgumentException($"The vacuum-event bound must be a finite non-negative count, got {bounds.VacuumEventsZLower}.", nameof(bounds));
        if (!(bounds.SinglePhotonEventsZLower >= 0 && double.IsFinite(bounds.SinglePhotonEventsZLower)))
            throw new ArgumentException($"The single-photon-event bound must be a finite non-negative count, got {bounds.SinglePhotonEventsZLower}.", nameof(bounds));
        if (bounds.Problem is null && !(bounds.PhaseErrorRateZUpper >= 0))
            throw new ArgumentException($"Usable bounds need a phase error bound >= 0, got {bounds.PhaseErrorRateZUpper}.", nameof(bounds));

        double vacuum = bounds.VacuumEventsZLower;
        double phi = bounds.PhaseErrorRateZUpper;
        bool secureSinglePhotons = bounds.Problem is null && phi < 0.5;
        double singlePhoton = secureSinglePhotons ? bounds.SinglePhotonEventsZLower * (1 - BinaryEntropy.H2(phi)) : 0;
        double leak = errorCorrectionLeakBits;
        double cost = 6 * Math.Log2(secrecySplit / security.EpsilonSecrecy)
                      + Math.Max(verificationTagBits, Math.Log2(2 / security.EpsilonCorrectness));
        double raw = vacuum + singlePhoton - leak - cost;

        if (bounds.Problem is not null)
            return new KeyLength(0, raw, bounds.Problem, vacuum, singlePhoton, leak, cost);
        if (!secureSinglePhotons)
            return new KeyLength(0, raw, $"the phase error bound phi_Z = {phi:P1} is at or above 50%", vacuum, singlePhoton, leak, cost);
        if (raw < 1)
            return new KeyLength(0, raw,
                $"the finite-key bound is {raw:F0} bits: vacuum {vacuum:F0} + single-photon {singlePhoton:F0} (phase error bound {phi:P2}) "
                + $"- error correction {leak:F0} - verification and secrecy {cost:F0}",
                vacuum, singlePhoton, leak, cost);
        // The bounds never exceed the block (s_0 + s_1 <= n_Z), so neither does the key.
        return new KeyLength((long)Math.Floor(raw), raw, null, vacuum, singlePhoton, leak, cost);
    }
}
