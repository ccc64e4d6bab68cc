using Qkd.Distillation.ErrorCorrection;
using Qkd.Distillation.ParameterEstimation;

namespace Qkd.Distillation.Tests.ParameterEstimation;

/// <summary>
/// Reproduces the evaluation of Lim et al., PRA 89, 022307 (2014), Sec. IV: a dedicated fibre (0.2 dB/km), InGaAs
/// detectors (eta_Bob = 10%, p_dc = 6e-7, afterpulse p_ap = 4e-2), mu3 = 2e-4, e_mis = 5e-3, f_EC = 1.16,
/// eps_cor = 1e-15 and eps_sec = kappa * l with kappa = 1e-15, the rate l / N optimised over q_x, p_mu1, p_mu2, mu1, mu2.
/// The paper prints the misalignment term as e_mis (1 - exp(-eta_ch k)); that would make the optical error rate about
/// 10 e_mis at every distance, so, as the text defines e_mis as the optical error rate, eta_sys is used there.
/// </summary>
public class LimPaperEvaluationTests
{
    private const double DarkCount = 6e-7, Afterpulse = 4e-2, EtaBob = 0.1, Misalignment = 5e-3, Fec = 1.16;
    private const double Kappa = 1e-15, EpsCor = 1e-15, Mu3 = 2e-4;

    /// <summary>Secret key rate per pulse for block size nX (key-basis detections) at fibre length L.</summary>
    private static double Rate(double lengthKm, double nX, double[] x)
    {
        double qx = x[0], p1 = x[1], p2 = x[2], mu1 = x[3], mu2 = x[4], p3 = 1 - p1 - p2;
        if (p3 < 1e-3 || p1 <= 0 || p2 <= 0 || !(mu1 > mu2 + Mu3) || !(mu2 > Mu3) || qx <= 0 || qx >= 1) return 0;
        double etaSys = Math.Pow(10, -0.02 * lengthKm) * EtaBob;
        double[] mu = [mu1, mu2, Mu3], p = [p1, p2, p3];
        var detection = new double[3];
        var error = new double[3];
        for (int k = 0; k < 3; k++)
        {
            double d = 1 - (1 - 2 * DarkCount) * Math.Exp(-etaSys * mu[k]);
            detection[k] = d * (1 + Afterpulse);
            error[k] = DarkCount + Misalignment * (1 - Math.Exp(-etaSys * mu[k])) + Afterpulse * d / 2;
        }
        double perPulse = p[0] * detection[0] + p[1] * detection[1] + p[2] * detection[2];
        double pulses = nX / (qx * qx * perPulse);
        // The paper extracts key from X and tests on Z; here the key basis is Z, so its roles are swapped.
        long[] key = new long[3], test = new long[3], testErrors = new long[3];
        for (int k = 0; k < 3; k++)
        {
            key[k] = (long)Math.Round(pulses * qx * qx * p[k] * detection[k]);
            test[k] = (long)Math.Round(pulses * (1 - qx) * (1 - qx) * p[k] * detection[k]);
            testErrors[k] = Math.Min(test[k], (long)Math.Round(pulses * (1 - qx) * (1 - qx) * p[k] * error[k]));
        }
        double observedErrorRate = (p[0] * error[0] + p[1] * error[1] + p[2] * error[2]) / perPulse;
        long leak = (long)Math.Ceiling(Fec * nX * BinaryEntropy.H2(Math.Min(observedErrorRate, 0.5)));

        // eps_sec = kappa * l depends on the key length: iterate to the fixed point.
        long length = (long)nX;
        for (int iteration = 0; iteration < 6; iteration++)
        {
            var security = new SecurityParameters(Math.Min(0.5, Kappa * length), EpsCor);
            var bounds = DecoyStateEstimator.Estimate(new DecoyStatistics(mu, p, key, test, testErrors), security);
            length = FiniteKeyLength.Compute(bounds, leak, 0, security).SecretBits;
            if (length <= 0) return 0;
        }
        return length / pulses;
    }

    /// <summary>Seeded random search followed by coordinate descent with shrinking steps.</summary>
    private static double Optimise(double lengthKm, double nX, double[] start)
    {
        double[] lower = [0.3, 0.005, 0.02, 0.1, 0.005], upper = [0.999, 0.95, 0.95, 1.5, 0.6];
        var random = new Random(2014);
        double[] best = start;
        double bestRate = Rate(lengthKm, nX, best);
        for (int sample = 0; sample < 1500; sample++)
        {
            var x = new double[5];
            for (int d = 0; d < 5; d++) x[d] = lower[d] + random.NextDouble() * (upper[d] - lower[d]);
            double r = Rate(lengthKm, nX, x);
            if (r > bestRate) (best, bestRate) = (x, r);
        }
        for (double step = 0.1; step > 1e-4;)
        {
            bool improved = false;
            for (int d = 0; d < 5; d++)
            {
                foreach (int sign in new[] { -1, 1 })
                {
                    var x = (double[])best.Clone();
                    x[d] = Math.Clamp(x[d] * (1 + sign * step), lower[d], upper[d]);
                    double r = Rate(lengthKm, nX, x);
                    if (r > bestRate) (best, bestRate, improved) = (x, r, true);
                }
            }
            if (!improved) step /= 2;
        }
        return bestRate;
    }

    [Fact]
    public void At_100_km_a_block_of_1e9_gives_about_1_75_times_the_rate_of_1e7()
    {
        // Paper, Sec. IV: "at a fiber length of 100 km, the secret key rate obtained with n_X = 10^9 is about 1.75 times
        // the one based on n_X = 10^7". This implementation gives 1.70 with the optimiser below.
        double[] start = [0.9, 0.6, 0.25, 0.45, 0.18];
        double large = Optimise(100, 1e9, start);
        double medium = Optimise(100, 1e7, start);
        Assert.True(medium > 0);
        Assert.InRange(large / medium, 1.55, 1.95);
        Assert.InRange(large, 3e-5, 3e-4); // of order 1e-4 per pulse, as expected at 30 dB of total loss
    }

    [Fact]
    public void Blocks_of_only_1e4_bits_still_give_key_over_100_km()
    {
        // The paper reports key up to 135 km for n_X = 10^4 (Fig. 1). With its formulas and model as printed this
        // implementation reaches about 115 km, so only the weaker statement is asserted; parameters from an offline search.
        double rate = Rate(100, 1e4, [0.422, 0.034, 0.535, 0.516, 0.100]);
        Assert.InRange(rate, 1e-7, 1e-5);
        Assert.Equal(0, Rate(150, 1e4, [0.422, 0.034, 0.535, 0.516, 0.100]));
    }
}
