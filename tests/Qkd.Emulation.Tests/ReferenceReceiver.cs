using Qkd.Core;
using Qkd.Emulation;

namespace Qkd.Emulation.Tests;

/// <summary>
/// An independent statement of the receiver physics, written for the tests: per-detector click probabilities
/// c_d = 1 - (1 - p_dark) exp(-mu eta r_d), all 2^D patterns enumerated, multi-clicks squashed the way Bob's decoder
/// does it. Deliberately shares no code with the emulator (which samples alias tables built from 3^D states).
/// </summary>
internal static class ReferenceReceiver
{
    /// <summary>eta computed from the profile fields, not from the profile's helpers.</summary>
    public static double Eta(LinkProfile p) =>
        Math.Pow(10, -(p.FibreLengthKm * p.FibreLossDbPerKm + p.BobInternalLossDb) / 10) * p.DetectorEfficiency;

    /// <summary>Bob's transmittance for photons that reach his receiver (internal loss and efficiency only).</summary>
    public static double ReceiverEta(LinkProfile p) => Math.Pow(10, -p.BobInternalLossDb / 10) * p.DetectorEfficiency;

    public static int Detectors(LinkProfile p) => p.ReceiverLayout == ReceiverLayout.PassiveFourDetector ? 4 : 2;

    /// <summary>mu of intensity k in <paramref name="light"/> (default: <see cref="DefaultLink.Light"/>).</summary>
    public static double Mu(Intensity k, TransmitterLight? light = null)
    {
        light ??= DefaultLink.Light;
        return k switch
        {
            Intensity.Signal => light.SignalMeanPhotonNumber,
            Intensity.Decoy => light.DecoyMeanPhotonNumber,
            _ => light.VacuumMeanPhotonNumber,
        };
    }

    /// <summary>Alice's probability of intensity k (default: <see cref="DefaultLink.Alice"/>).</summary>
    public static double IntensityProbability(Intensity k, Core.Symbols.SymbolDistribution? alice = null) =>
        (alice ?? DefaultLink.Alice).IntensityProbabilities[(int)k];

    /// <summary>Alice's probability of choosing <paramref name="basis"/> (default: <see cref="DefaultLink.Alice"/>).</summary>
    public static double BasisProbability(Basis basis, Core.Symbols.SymbolDistribution? alice = null) =>
        (alice ?? DefaultLink.Alice).ProbabilityOf(basis);

    /// <summary>What Bob's decoder reports for light of mean mu prepared in (basis, bit).</summary>
    /// <returns>P(click), P(multi-click), and P(decoded basis, decoded bit) indexed [basis, bit].</returns>
    public static Outcome Measure(LinkProfile p, double mu, Basis lightBasis, int lightBit)
    {
        double eta = Eta(p), pd = p.DarkCountProbabilityPerPulse, e = p.MisalignmentError, bz = p.BobProbabilityZ;
        var result = new double[2, 2];
        double click = 0, multi = 0;
        if (p.ReceiverLayout == ReceiverLayout.PassiveFourDetector)
        {
            var c = new double[4];
            for (int d = 0; d < 4; d++)
            {
                var basis = d < 2 ? Basis.Z : Basis.X;
                double split = basis == Basis.Z ? bz : 1 - bz;
                double share = basis != lightBasis ? 0.5 : (d & 1) == lightBit ? 1 - e : e;
                c[d] = 1 - (1 - pd) * Math.Exp(-mu * eta * split * share);
            }
            for (int mask = 1; mask < 16; mask++)
            {
                double prob = PatternProbability(c, mask);
                click += prob;
                if (PopCount(mask) > 1) multi += prob;
                int z = mask & 3, x = mask >> 2;
                if (z != 0 && x != 0)
                {
                    AddPair(result, Basis.Z, z, prob / 2);
                    AddPair(result, Basis.X, x, prob / 2);
                }
                else if (z != 0) AddPair(result, Basis.Z, z, prob);
                else AddPair(result, Basis.X, x, prob);
            }
        }
        else
        {
            foreach (Basis setting in (Basis[])[Basis.Z, Basis.X])
            {
                double settingProbability = setting == Basis.Z ? bz : 1 - bz;
                var c = new double[2];
                for (int d = 0; d < 2; d++)
                {
                    double share = setting != lightBasis ? 0.5 : d == lightBit ? 1 - e : e;
                    c[d] = 1 - (1 - pd) * Math.Exp(-mu * eta * share);
                }
                for (int mask = 1; mask < 4; mask++)
                {
                    double prob = settingProbability * PatternProbability(c, mask);
                    click += prob;
                    if (mask == 3) multi += prob;
                    AddPair(result, setting, mask, prob);
                }
            }
        }
        return new Outcome(click, multi, result);
    }

    /// <summary>
    /// Expected gain, multi-click probability and sifted error rate of intensity k for an honest channel, averaged
    /// over Alice's basis and bit; also per Alice basis.
    /// </summary>
    public static Expectation Honest(LinkProfile p, Intensity k, TransmitterLight? light = null) =>
        Average(p, (basis, bit) => Measure(p, Mu(k, light), basis, bit));

    /// <summary>
    /// Average over Alice's (basis, bit) of a per-state outcome; sifting and errors are judged against Alice's state.
    /// </summary>
    public static Expectation Average(LinkProfile p, Func<Basis, int, Outcome> outcomeFor)
    {
        double gain = 0, multi = 0;
        var sifted = new double[2];
        var errors = new double[2];
        foreach (Basis a in (Basis[])[Basis.Z, Basis.X])
        {
            double pa = BasisProbability(a);
            for (int y = 0; y < 2; y++)
            {
                Outcome o = outcomeFor(a, y);
                double w = pa / 2;
                gain += w * o.Click;
                multi += w * o.MultiClick;
                sifted[(int)a] += w * (o.Result[(int)a, 0] + o.Result[(int)a, 1]);
                errors[(int)a] += w * o.Result[(int)a, 1 - y];
            }
        }
        return new Expectation(gain, multi, sifted, errors);
    }

    private static double PatternProbability(double[] c, int mask)
    {
        double prob = 1;
        for (int d = 0; d < c.Length; d++)
            prob *= (mask >> d & 1) != 0 ? c[d] : 1 - c[d];
        return prob;
    }

    /// <summary>Squashing within a pair: detector 0 alone means 0, detector 1 alone means 1, both a fair coin.</summary>
    private static void AddPair(double[,] result, Basis basis, int pair, double prob)
    {
        if (pair == 1) result[(int)basis, 0] += prob;
        else if (pair == 2) result[(int)basis, 1] += prob;
        else
        {
            result[(int)basis, 0] += prob / 2;
            result[(int)basis, 1] += prob / 2;
        }
    }

    private static int PopCount(int x) => System.Numerics.BitOperations.PopCount((uint)x);

    internal sealed record Outcome(double Click, double MultiClick, double[,] Result);

    /// <param name="Gain">P(click) per pulse.</param>
    /// <param name="MultiClick">P(two or more detectors) per pulse.</param>
    /// <param name="Sifted">P(click decoded in Alice's basis) per pulse, by Alice's basis.</param>
    /// <param name="Errors">P(sifted and wrong bit) per pulse, by Alice's basis.</param>
    internal sealed record Expectation(double Gain, double MultiClick, double[] Sifted, double[] Errors)
    {
        public double ErrorRate => (Errors[0] + Errors[1]) / (Sifted[0] + Sifted[1]);

        public double ErrorRateIn(Basis basis) => Errors[(int)basis] / Sifted[(int)basis];
    }
}
