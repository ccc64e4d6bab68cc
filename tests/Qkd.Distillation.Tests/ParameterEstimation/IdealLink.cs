using Qkd.Core.Random;
using Qkd.Distillation.ErrorCorrection;
using Qkd.Distillation.ParameterEstimation;

namespace Qkd.Distillation.Tests.ParameterEstimation;

/// <summary>
/// A textbook decoy-state BB84 link, written independently of the estimator: Poisson source, transmittance eta
/// (channel and detector together), background (dark count) probability Y0 per pulse and misalignment e_mis. An
/// n-photon pulse gives a signal click with probability 1 - (1 - eta)^n, so its yield is
/// Y_n = 1 - (1 - Y0)(1 - eta)^n, and its error probability times yield is e_mis (1 - (1 - eta)^n) + Y0 (1 - eta)^n / 2
/// (a background-only click is a coin toss). Summing over the Poisson photon number gives the per-intensity gain
/// Q_k = 1 - (1 - Y0) e^(-eta mu_k) and error gain E_k Q_k = e_mis (1 - e^(-eta mu_k)) + Y0 e^(-eta mu_k) / 2.
/// </summary>
internal sealed record IdealLink(double Eta, double Y0, double MisalignmentError, double[] Mu, double[] P, double ProbabilityZ = 0.5)
{
    public static readonly double[] DefaultMu = [0.5, 0.1, 0.0];
    public static readonly double[] DefaultP = [0.6, 0.2, 0.2];

    /// <summary>Probability that Alice and Bob both chose Z (resp. X).</summary>
    public double BothZ => ProbabilityZ * ProbabilityZ;
    public double BothX => (1 - ProbabilityZ) * (1 - ProbabilityZ);

    public double Gain(int k) => 1 - (1 - Y0) * Math.Exp(-Eta * Mu[k]);
    public double ErrorGain(int k) => MisalignmentError * (1 - Math.Exp(-Eta * Mu[k])) + Y0 * Math.Exp(-Eta * Mu[k]) / 2;

    public double SinglePhotonYield => 1 - (1 - Y0) * (1 - Eta);
    public double SinglePhotonErrorRate => (MisalignmentError * Eta + Y0 * (1 - Eta) / 2) / SinglePhotonYield;

    /// <summary>Probability that a pulse carries n photons, averaged over the intensity choice.</summary>
    public double Tau(int n)
    {
        double factorial = 1;
        for (int i = 2; i <= n; i++) factorial *= i;
        return Enumerable.Range(0, 3).Sum(k => P[k] * Math.Exp(-Mu[k]) * Math.Pow(Mu[k], n)) / factorial;
    }

    /// <summary>Expected sifted Z detections from single-photon pulses, the true value behind s_(Z,1).</summary>
    public double TrueSinglePhotonZ(double pulses) => pulses * BothZ * Tau(1) * SinglePhotonYield;
    public double TrueVacuumZ(double pulses) => pulses * BothZ * Tau(0) * Y0;
    public double TrueSinglePhotonX(double pulses) => pulses * BothX * Tau(1) * SinglePhotonYield;

    /// <summary>Overall Z-basis QBER, what error correction has to fix.</summary>
    public double QberZ => Enumerable.Range(0, 3).Sum(k => P[k] * ErrorGain(k)) / Enumerable.Range(0, 3).Sum(k => P[k] * Gain(k));

    /// <summary>Counts equal to their expectations (rounded), as key-rate papers simulate.</summary>
    public DecoyStatistics ExpectedCounts(double pulses)
    {
        var z = new long[3];
        var x = new long[3];
        var m = new long[3];
        for (int k = 0; k < 3; k++)
        {
            z[k] = (long)Math.Round(pulses * BothZ * P[k] * Gain(k));
            x[k] = (long)Math.Round(pulses * BothX * P[k] * Gain(k));
            m[k] = (long)Math.Round(pulses * BothX * P[k] * ErrorGain(k));
        }
        return new DecoyStatistics(Mu, P, z, x, m);
    }

    /// <summary>Counts drawn at random (Poisson, via its normal limit for large means), seeded.</summary>
    public DecoyStatistics SampledCounts(double pulses, ulong seed)
    {
        var random = new Xoshiro256StarStar(seed);
        var z = new long[3];
        var x = new long[3];
        var m = new long[3];
        for (int k = 0; k < 3; k++)
        {
            z[k] = Poisson(random, pulses * BothZ * P[k] * Gain(k));
            double meanX = pulses * BothX * P[k] * Gain(k);
            x[k] = Poisson(random, meanX);
            // Errors among the X detections: binomial with the error probability of this intensity.
            double errorProbability = ErrorGain(k) / Gain(k);
            m[k] = Math.Min(x[k], Poisson(random, x[k] * errorProbability));
        }
        return new DecoyStatistics(Mu, P, z, x, m);
    }

    /// <summary>Key length with error correction at efficiency f over the Shannon limit and a 2-lane verification tag.</summary>
    public KeyLength KeyLength(double pulses, SecurityParameters security, double efficiency = 1.16)
    {
        var counts = ExpectedCounts(pulses);
        var bounds = DecoyStateEstimator.Estimate(counts, security);
        long nZ = counts.DetectionsZ.Sum();
        long leak = (long)Math.Ceiling(efficiency * nZ * BinaryEntropy.H2(Math.Min(QberZ, 0.5)));
        return FiniteKeyLength.Compute(bounds, leak, 122, security);
    }

    private static long Poisson(IRandomSource random, double mean)
    {
        if (mean < 60)
        {
            // Knuth's product of uniforms.
            double limit = Math.Exp(-mean), product = random.NextDouble();
            long count = 0;
            while (product > limit)
            {
                count++;
                product *= random.NextDouble();
            }
            return count;
        }
        // Box-Muller normal approximation, adequate far from the tails the bounds care about.
        double u1 = 1 - random.NextDouble(), u2 = random.NextDouble();
        double normal = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
        return Math.Max(0, (long)Math.Round(mean + Math.Sqrt(mean) * normal));
    }
}
