using Qkd.Distillation.ParameterEstimation;

namespace Qkd.Distillation.Tests.ParameterEstimation;

/// <summary>
/// The yin2020 analysis evaluated by hand: Lim et al.'s Eqs. 2-5 (the formulas written out again here) with each expected
/// count bracketed by Yin et al.'s E^L and E^U at epsilon_sec/21 and the phase error by gamma^U at epsilon_sec/21.
/// </summary>
public class Yin2020AnalysisTests
{
    [Fact]
    public void The_bounds_are_Lims_equations_with_Yins_intervals()
    {
        double[] mu = [0.5, 0.15, 0.0], p = [0.65, 0.25, 0.10];
        long[] z = [3_100_000, 330_000, 1_900], x = [340_000, 36_000, 210], mx = [3_500, 600, 105];
        var security = new SecurityParameters(1e-10, 1e-15);
        var b = Yin2020Analysis.Instance.Estimate(new DecoyStatistics(mu, p, z, x, mx), null, security);

        double eps = 1e-10 / 21;
        double tau0 = 0.65 * Math.Exp(-0.5) + 0.25 * Math.Exp(-0.15) + 0.10, tau1 = 0.65 * 0.5 * Math.Exp(-0.5) + 0.25 * 0.15 * Math.Exp(-0.15);
        double Minus(long count, int k) => Math.Exp(mu[k]) / p[k] * Yin2020Bounds.LowerMean(count, eps);
        double Plus(long count, int k) => Math.Exp(mu[k]) / p[k] * Yin2020Bounds.UpperMean(count, eps);
        (double S0, double S1) Events(long[] c)
        {
            double s0 = Math.Max(0, tau0 * (0.15 * Minus(c[2], 2) - 0 * Plus(c[1], 1)) / 0.15);                      // (Eq. 2)
            double s1 = tau1 * 0.5 * (Minus(c[1], 1) - Plus(c[2], 2) - 0.15 * 0.15 / 0.25 * (Plus(c[0], 0) - s0 / tau0))
                        / (0.5 * 0.15 - 0.15 * 0.15);                                                                 // (Eq. 3)
            return (s0, s1);
        }
        var (sz0, sz1) = Events(z);
        var (sx0, sx1) = Events(x);
        double v1 = tau1 * (Plus(mx[1], 1) - Minus(mx[2], 2)) / 0.15;                                                 // (Eq. 4)
        Assert.Equal(sz0, b.VacuumEventsZLower, 1e-6);
        Assert.Equal(sz1, b.SinglePhotonEventsZLower, 1e-6);
        Assert.Equal(sx1, b.SinglePhotonEventsXLower, 1e-6);
        Assert.Equal(v1, b.SinglePhotonErrorsXUpper, 1e-6);
        double rate = v1 / sx1;
        Assert.Equal(rate + Yin2020Bounds.SamplingDeviation(eps, rate, sz1, sx1), b.PhaseErrorRateZUpper, 1e-12);     // (Eq. 5)
        Assert.Null(b.Problem);

        // The same counts under lim2014 give a larger phase error bound (Hoeffding counts and Lim's gamma).
        var lim = Lim2014Analysis.Instance.Estimate(new DecoyStatistics(mu, p, z, x, mx), null, security);
        Assert.True(b.PhaseErrorRateZUpper < lim.PhaseErrorRateZUpper);
        var length = Yin2020Analysis.Instance.KeyLength(b, 500_000, 0, security);
        Assert.Equal(b.VacuumEventsZLower + b.SinglePhotonEventsZLower * (1 - Qkd.Distillation.ErrorCorrection.BinaryEntropy.H2(b.PhaseErrorRateZUpper))
                     - 500_000 - 6 * Math.Log2(21 / 1e-10) - Math.Log2(2 / 1e-15), length.RawValue, 1e-6);        // (Eq. 1)
    }

    [Fact]
    public void It_is_selectable_by_name_and_reports_its_citation_and_epsilons()
    {
        Assert.True(FiniteKeyAnalyses.TryParse("yin2020", out var kind));
        Assert.Equal(FiniteKeyAnalysisKind.Yin2020, kind);
        var analysis = FiniteKeyAnalyses.For(kind);
        Assert.Contains("Sci. Rep. 10, 14312 (2020)", analysis.Citation);
        var epsilons = analysis.Epsilons(new SecurityParameters());
        Assert.Contains(epsilons, e => e.Name == "eps_gamma" && e.Meaning.Contains("gamma^U") && e.Value == 1e-10 / 21);
        Assert.Equal(6, epsilons.Count);
    }
}
