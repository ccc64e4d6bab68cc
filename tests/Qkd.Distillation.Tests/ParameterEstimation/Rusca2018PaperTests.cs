using Qkd.Distillation.ErrorCorrection;
using Qkd.Distillation.ParameterEstimation;

namespace Qkd.Distillation.Tests.ParameterEstimation;

/// <summary>
/// Rusca, Boaron, Grünenfelder, Martin, Zbinden, APL 112, 171104 (2018), arXiv:1801.03443: the one-decoy analysis of
/// Appendix A, and the paper's result (abstract and Fig. 2, the ratio of the one-decoy to the two-decoy key rate): for
/// block sizes up to 10^8 the one-decoy protocol gives more key than the two-decoy protocol of Lim et al. 2014, both
/// with their parameters optimised, on a low-noise link. Link as in Appendix B without dead time: Bob 25% efficiency,
/// 0.2 dB/km, background 1e-7, 1% misalignment, f_EC = 1.16, eps_sec 1e-10, eps_cor 1e-15, n_Z = 10^6.
/// </summary>
public class Rusca2018PaperTests
{
    private static double OptimisedRate(IFiniteKeyAnalysis analysis, double km, bool oneDecoy)
    {
        // mu1, mu2, p_signal, p_decoy (two decoys; the vacuum takes the rest), Alice's p_Z. Coordinate search.
        double[] best = oneDecoy ? [0.5, 0.17, 0.55, 0.45, 0.83] : [0.53, 0.23, 0.36, 0.46, 0.85];
        double Rate(double[] v)
        {
            double p3 = oneDecoy ? 0 : 1 - v[2] - v[3];
            double p2 = oneDecoy ? 1 - v[2] : v[3];
            if (!(v[1] > 0.01 && v[0] > v[1] + 0.01 && v[0] < 1.2 && v[2] > 0.01 && p2 > 0.01 && (oneDecoy || p3 > 0.01) && v[4] > 0.3 && v[4] < 0.99))
                return -1;
            var link = new DecoyLinkModel(0.25, 1e-7, 0.01, 0.2, [v[0], v[1], 0.0], [v[2], p2, p3], v[4], 0.5, 1.16);
            return link.FiniteRatePerPulse(analysis, km, 1_000_000);
        }
        double bestRate = Rate(best);
        for (double step = 0.1; step > 0.002;)
        {
            bool improved = false;
            for (int d = 0; d < best.Length; d++)
                foreach (int sign in new[] { -1, 1 })
                {
                    var v = (double[])best.Clone();
                    v[d] *= 1 + sign * step;
                    double r = Rate(v);
                    if (r > bestRate) (best, bestRate, improved) = (v, r, true);
                }
            if (!improved) step /= 2;
        }
        return bestRate;
    }

    [Theory]
    [InlineData(50)]
    [InlineData(100)]
    public void At_a_block_of_1e6_one_decoy_gives_more_key_than_two_decoys(double km)
    {
        double one = OptimisedRate(Rusca2018Analysis.Instance, km, oneDecoy: true);
        double two = OptimisedRate(Lim2014Analysis.Instance, km, oneDecoy: false);
        Assert.True(two > 0);
        Assert.True(one > two, $"one decoy {one:E3} per pulse, two decoys {two:E3}");
        Assert.True(one < 1.3 * two); // a few percent (Fig. 2 shows ratios of order 1.05-1.2), not a different regime
    }

    [Fact]
    public void The_bounds_are_Appendix_A_evaluated_by_hand()
    {
        double[] mu = [0.5, 0.2, 0.0], p = [0.7, 0.3, 0.0];
        long[] z = [900_000, 150_000, 0], x = [100_000, 17_000, 0], mx = [2_000, 500, 0], mz = [18_000, 3_200, 0];
        var security = new SecurityParameters(1e-10, 1e-15);
        var b = Rusca2018Analysis.Instance.Estimate(new DecoyStatistics(mu, p, z, x, mx), mz, security);

        double eps = 1e-10 / 19, ln = Math.Log(1 / eps);
        double Delta(double n) => Math.Sqrt(n / 2 * ln);
        double tau0 = 0.7 * Math.Exp(-0.5) + 0.3 * Math.Exp(-0.2), tau1 = 0.7 * 0.5 * Math.Exp(-0.5) + 0.3 * 0.2 * Math.Exp(-0.2);
        double nZ = 1_050_000, mZ = 21_200;
        double plus1 = Math.Exp(0.5) / 0.7 * (900_000 + Delta(nZ)), minus2 = Math.Exp(0.2) / 0.3 * (150_000 - Delta(nZ));
        double s0Upper = 2 * (tau0 * Math.Exp(0.2) / 0.3 * (3_200 + Delta(mZ)) + Delta(nZ));                      // (A16)
        double s1 = tau1 * 0.5 / (0.2 * 0.3) * (minus2 - 0.04 / 0.25 * plus1 - (0.25 - 0.04) / 0.25 * s0Upper / tau0); // (A17)
        double s0 = tau0 / 0.3 * (0.5 * minus2 - 0.2 * plus1);                                                     // (A19)
        Assert.Equal(s0Upper, b.VacuumEventsZUpper, 1e-6);
        Assert.Equal(s1, b.SinglePhotonEventsZLower, 1e-6);
        Assert.Equal(Math.Max(0, s0), b.VacuumEventsZLower, 1e-6);

        double mPlus1 = Math.Exp(0.5) / 0.7 * (2_000 + Delta(2_500)), mMinus2 = Math.Exp(0.2) / 0.3 * (500 - Delta(2_500));
        Assert.Equal(tau1 / 0.3 * (mPlus1 - mMinus2), b.SinglePhotonErrorsXUpper, 1e-6);                            // (A22)
        double rate = b.SinglePhotonErrorsXUpper / b.SinglePhotonEventsXLower;
        Assert.Equal(rate + FiniteSizeStatistics.SamplingDeviation(1e-10, rate, b.SinglePhotonEventsZLower, b.SinglePhotonEventsXLower, 19),
            b.PhaseErrorRateZUpper, 1e-12);                                                                          // (A23)

        var length = Rusca2018Analysis.Instance.KeyLength(b, 100_000, 0, security);                                 // (A25)
        double expected = b.VacuumEventsZLower + b.SinglePhotonEventsZLower * (1 - BinaryEntropy.H2(b.PhaseErrorRateZUpper)) - 100_000
                          - 6 * Math.Log2(19 / 1e-10) - Math.Log2(2 / 1e-15);
        Assert.Equal(expected, length.RawValue, 1e-6);
    }

    [Fact]
    public void Before_correction_the_estimate_assumes_no_key_errors_and_so_is_never_smaller()
    {
        var link = new DecoyLinkModel(0.25, 1e-7, 0.01, 0.2, [0.5, 0.17, 0.0], [0.55, 0.45, 0.0], 0.83, 0.5, 1.16);
        var (statistics, errorsZ) = link.ExpectedCounts(50, 1_000_000);
        var before = Rusca2018Analysis.Instance.Estimate(statistics, null, new SecurityParameters());
        var after = Rusca2018Analysis.Instance.Estimate(statistics, errorsZ, new SecurityParameters());
        Assert.True(before.SinglePhotonEventsZLower >= after.SinglePhotonEventsZLower);
        Assert.True(before.VacuumEventsZUpper <= after.VacuumEventsZUpper);
    }
}
