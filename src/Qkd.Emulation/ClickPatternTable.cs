using Qkd.Core;

namespace Qkd.Emulation;

/// <summary>
/// The exact distribution of Bob's detector pattern given that at least one detector fires, for coherent light with
/// independent (Poisson-split) detector inputs, stored as an alias table so that a click costs one random word.
/// </summary>
/// <remarks>
/// Each detector d independently ends in one of three states: silent, (1 - p_dark) exp(-m_d); fired by a dark count
/// alone, p_dark exp(-m_d); or fired by light, 1 - exp(-m_d), where m_d is its mean detected photon number. Enumerating
/// the 3^D joint states (and, for an active receiver, the modulator setting), dropping the all-silent one and
/// normalising gives P(pattern | at least one fires) in closed form. This is the same distribution the sequential rule
/// P(d fires | none before fired, one of d..D fires) = c_d / (1 - prod_{j&gt;=d}(1 - c_j)) produces, but it is paid for
/// once per configuration instead of up to D draws per click, and it also says which firings were dark counts.
/// </remarks>
internal static class ClickPatternTable
{
    /// <param name="optics">Receiver: detector count and the modulator settings with their probabilities.</param>
    /// <param name="meanDetectedPhotons">m_d for (modulator setting, detector).</param>
    /// <param name="darkCountProbability">p_dark per detector and pulse.</param>
    /// <returns>The table, or null when no detector can fire at all (no light and no dark counts).</returns>
    /// <param name="fixedSetting">Without <paramref name="includeSettings"/>: the modulator setting the table is for (an
    /// active receiver driven by Bob's own choices has one table per setting).</param>
    public static AliasTable? Build(
        ReceiverOptics optics, Func<Basis, int, double> meanDetectedPhotons, double darkCountProbability, bool includeSettings,
        Basis fixedSetting = Basis.Z)
    {
        int detectors = optics.DetectorCount;
        int states = 1;
        for (int d = 0; d < detectors; d++) states *= 3;
        Basis[] settings = includeSettings ? optics.BasisSettings : [fixedSetting];

        var weights = new List<double>(settings.Length * states);
        var outcomes = new List<uint>(settings.Length * states);
        Span<double> silent = stackalloc double[detectors];
        Span<double> darkOnly = stackalloc double[detectors];
        Span<double> light = stackalloc double[detectors];
        foreach (Basis setting in settings)
        {
            double settingProbability = includeSettings ? optics.ProbabilityOfSetting(setting) : 1.0;
            for (int d = 0; d < detectors; d++)
            {
                double m = meanDetectedPhotons(setting, d);
                double noLight = Math.Exp(-m);
                silent[d] = (1 - darkCountProbability) * noLight;
                darkOnly[d] = darkCountProbability * noLight;
                light[d] = PreciseMath.OneMinusExp(-m);
            }
            // state = sum_d s_d 3^d with s_d in {0 silent, 1 dark only, 2 light}; state 0 is "no click".
            for (int state = 1; state < states; state++)
            {
                double weight = settingProbability;
                uint fired = 0, dark = 0;
                int rest = state;
                for (int d = 0; d < detectors; d++, rest /= 3)
                {
                    switch (rest % 3)
                    {
                        case 0: weight *= silent[d]; break;
                        case 1: weight *= darkOnly[d]; fired |= 1u << d; dark |= 1u << d; break;
                        default: weight *= light[d]; fired |= 1u << d; break;
                    }
                }
                if (weight > 0)
                {
                    weights.Add(weight);
                    outcomes.Add(ClickOutcome.Encode(fired, dark, setting));
                }
            }
        }
        return weights.Count == 0 ? null : new AliasTable(weights.ToArray(), outcomes.ToArray());
    }

    /// <summary>P(at least one of D detectors fires) = 1 - (1 - p_dark)^D exp(-m) for total mean detected photons m.</summary>
    public static double ClickProbability(int detectorCount, double darkCountProbability, double meanDetectedPhotons) =>
        PreciseMath.OneMinusExp(detectorCount * PreciseMath.Log1P(-darkCountProbability) - meanDetectedPhotons);
}
