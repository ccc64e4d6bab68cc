using CsCheck;
using Qkd.Distillation.ParameterEstimation;

namespace Qkd.Distillation.Tests.ParameterEstimation;

public class DecoyStateEstimatorTests
{
    private static readonly SecurityParameters Security = new();

    [Theory]
    [InlineData(1e-2, 1e-6, 0.01)]
    [InlineData(1e-3, 1e-5, 0.02)]
    [InlineData(0.1, 1e-7, 0.005)]
    public void Bounds_converge_to_the_true_single_photon_yield_and_error_rate_at_huge_block_size(double eta, double y0, double misalignment)
    {
        // A weak decoy of 0.02 keeps the intrinsic slack of the three-intensity bound to about 2%; 1e15 pulses make the
        // finite-size terms (amplified by e^mu / p_k and by near-cancelling differences) smaller still.
        var link = new IdealLink(eta, y0, misalignment, [0.5, 0.02, 0.0], [0.6, 0.2, 0.2]);
        const double pulses = 1e15;
        var counts = link.ExpectedCounts(pulses);
        var bounds = DecoyStateEstimator.Estimate(counts, Security);
        Assert.Null(bounds.Problem);

        double yieldLower = bounds.SinglePhotonEventsZLower / (pulses * link.BothZ * link.Tau(1));
        Assert.InRange(yieldLower / link.SinglePhotonYield, 0.98, 1.0);
        double yieldLowerX = bounds.SinglePhotonEventsXLower / (pulses * link.BothX * link.Tau(1));
        Assert.InRange(yieldLowerX / link.SinglePhotonYield, 0.98, 1.0);

        Assert.InRange(bounds.SinglePhotonErrorRateXUpper / link.SinglePhotonErrorRate, 1.0, 1.05);
        Assert.Equal(bounds.SinglePhotonErrorsXUpper / bounds.SinglePhotonEventsXLower, bounds.SinglePhotonErrorRateXUpper, 12);
        // At this size the sampling term is tiny: phi_Z sits just above the X-basis single-photon error rate.
        Assert.InRange(bounds.PhaseErrorRateZUpper - bounds.SinglePhotonErrorRateXUpper, 0, 1e-4);

        // With mu3 = 0 the vacuum bound is tau0 (n_(Z,3) - delta(n_Z)) / p3 against the truth tau0 E[n_(Z,3)] / p3:
        // it converges only as fast as the vacuum detections outgrow the deviation of all Z detections.
        double nZ = counts.DetectionsZ.Sum(), nVacuum = counts.DetectionsZ[2];
        double delta = Math.Sqrt(nZ / 2 * Math.Log(21 / Security.EpsilonSecrecy));
        double expectedRatio = Math.Max(0, nVacuum - delta) / (pulses * link.BothZ * link.P[2] * y0);
        Assert.Equal(expectedRatio, bounds.VacuumEventsZLower / link.TrueVacuumZ(pulses), 1e-6);
        Assert.True(bounds.VacuumEventsZLower <= link.TrueVacuumZ(pulses));
    }

    [Fact]
    public void Bounds_stay_on_the_safe_side_for_sampled_finite_counts()
    {
        // 1e9 .. 1e11 pulses at 0 .. 25 dB: every bound must hold against the true (expected) values, for every seed.
        Gen.Select(Gen.Double[9, 11], Gen.Double[0, 2.5], Gen.Double[0, 0.03], Gen.ULong).Sample((logPulses, decades, misalignment, seed) =>
        {
            var link = new IdealLink(Math.Pow(10, -decades) * 0.5, 1e-6, misalignment, IdealLink.DefaultMu, IdealLink.DefaultP);
            double pulses = Math.Pow(10, logPulses);
            var bounds = DecoyStateEstimator.Estimate(link.SampledCounts(pulses, seed), Security);
            if (bounds.SinglePhotonEventsZLower > link.TrueSinglePhotonZ(pulses)) return false;
            if (bounds.SinglePhotonEventsXLower > link.TrueSinglePhotonX(pulses)) return false;
            if (bounds.VacuumEventsZLower > link.TrueVacuumZ(pulses)) return false;
            if (bounds.Problem is null)
            {
                double trueErrors = link.TrueSinglePhotonX(pulses) * link.SinglePhotonErrorRate;
                if (bounds.SinglePhotonErrorsXUpper < trueErrors) return false;
                if (bounds.PhaseErrorRateZUpper < link.SinglePhotonErrorRate) return false;
            }
            return true;
        }, iter: 300);
    }

    [Fact]
    public void Finite_bounds_tighten_as_the_block_grows()
    {
        var link = new IdealLink(0.01, 1e-6, 0.01, IdealLink.DefaultMu, IdealLink.DefaultP);
        double previousYield = 0, previousPhi = 1;
        foreach (double pulses in new[] { 1e9, 1e10, 1e11, 1e12, 1e13 })
        {
            var bounds = DecoyStateEstimator.Estimate(link.ExpectedCounts(pulses), Security);
            double yieldLower = bounds.SinglePhotonEventsZLower / (pulses * link.BothZ * link.Tau(1));
            Assert.True(yieldLower > previousYield, $"yield bound at {pulses:E0} pulses");
            Assert.True(bounds.PhaseErrorRateZUpper < previousPhi, $"phase error bound at {pulses:E0} pulses");
            previousYield = yieldLower;
            previousPhi = bounds.PhaseErrorRateZUpper;
        }
    }

    [Fact]
    public void Lower_bound_matches_the_paper_formulas_on_hand_computed_numbers()
    {
        // Recompute Eqs. 2-5 of Lim et al. term by term for one set of counts.
        double[] mu = [0.6, 0.15, 0.01];
        double[] p = [0.7, 0.2, 0.1];
        long[] z = [2_000_000, 150_000, 20_000];
        long[] x = [500_000, 40_000, 6_000];
        long[] m = [6_000, 1_800, 1_400];
        var security = new SecurityParameters(1e-9, 1e-12);
        var bounds = DecoyStateEstimator.Estimate(new DecoyStatistics(mu, p, z, x, m), security);

        double eps = 1e-9 / 21;
        double Tau(int n) => p[0] * Math.Exp(-mu[0]) * Math.Pow(mu[0], n) + p[1] * Math.Exp(-mu[1]) * Math.Pow(mu[1], n)
                             + p[2] * Math.Exp(-mu[2]) * Math.Pow(mu[2], n); // n <= 1, so n! = 1
        double tau0 = Tau(0), tau1 = Tau(1);
        double Pm(long[] c, int k, int sign)
        {
            double total = c.Sum();
            double delta = Math.Sqrt(total / 2 * Math.Log(1 / eps));
            return Math.Exp(mu[k]) / p[k] * (c[k] + sign * delta);
        }
        double s0 = tau0 * (mu[1] * Pm(z, 2, -1) - mu[2] * Pm(z, 1, +1)) / (mu[1] - mu[2]);
        double s1 = tau1 * mu[0] * (Pm(z, 1, -1) - Pm(z, 2, +1) - (mu[1] * mu[1] - mu[2] * mu[2]) / (mu[0] * mu[0]) * (Pm(z, 0, +1) - s0 / tau0))
                    / (mu[0] * (mu[1] - mu[2]) - mu[1] * mu[1] + mu[2] * mu[2]);
        double sx0 = tau0 * (mu[1] * Pm(x, 2, -1) - mu[2] * Pm(x, 1, +1)) / (mu[1] - mu[2]);
        double sx1 = tau1 * mu[0] * (Pm(x, 1, -1) - Pm(x, 2, +1) - (mu[1] * mu[1] - mu[2] * mu[2]) / (mu[0] * mu[0]) * (Pm(x, 0, +1) - sx0 / tau0))
                     / (mu[0] * (mu[1] - mu[2]) - mu[1] * mu[1] + mu[2] * mu[2]);
        double v = tau1 * (Pm(m, 1, +1) - Pm(m, 2, -1)) / (mu[1] - mu[2]);
        double b = v / sx1;
        double gamma = Math.Sqrt((s1 + sx1) * (1 - b) * b / (s1 * sx1 * Math.Log(2))
                                 * Math.Log2((s1 + sx1) / (s1 * sx1 * (1 - b) * b) * 21 * 21 / (1e-9 * 1e-9)));

        Assert.True(s0 > 0 && s1 > 0 && sx0 > 0 && sx1 > 0 && v > 0, "the example must not hit any clamp");
        Assert.Equal(s0, bounds.VacuumEventsZLower, 1e-6 * s0);
        Assert.Equal(s1, bounds.SinglePhotonEventsZLower, 1e-9 * s1);
        Assert.Equal(sx0, bounds.VacuumEventsXLower, 1e-6 * sx0);
        Assert.Equal(sx1, bounds.SinglePhotonEventsXLower, 1e-9 * sx1);
        Assert.Equal(v, bounds.SinglePhotonErrorsXUpper, 1e-9 * v);
        Assert.Equal(b + gamma, bounds.PhaseErrorRateZUpper, 1e-12);
        Assert.Null(bounds.Problem);
    }

    [Fact]
    public void No_detections_is_an_outcome_not_an_error()
    {
        var statistics = new DecoyStatistics(IdealLink.DefaultMu, IdealLink.DefaultP, [0, 0, 0], [0, 0, 0], [0, 0, 0]);
        var bounds = DecoyStateEstimator.Estimate(statistics, Security);
        Assert.Equal(0, bounds.SinglePhotonEventsZLower);
        Assert.Contains("Z basis", bounds.Problem);
    }

    [Fact]
    public void Too_few_X_detections_leave_the_phase_error_unbounded_with_a_reason()
    {
        var link = new IdealLink(0.01, 1e-6, 0.01, IdealLink.DefaultMu, IdealLink.DefaultP, ProbabilityZ: 0.995);
        var bounds = DecoyStateEstimator.Estimate(link.ExpectedCounts(1e9), Security);
        Assert.True(bounds.SinglePhotonEventsZLower > 0);
        Assert.Equal(0, bounds.SinglePhotonEventsXLower);
        Assert.Contains("X basis", bounds.Problem);
        Assert.True(double.IsNaN(bounds.PhaseErrorRateZUpper));
    }

    [Fact]
    public void A_noisy_X_basis_gives_a_phase_error_problem()
    {
        var link = new IdealLink(0.01, 1e-6, 0.5, IdealLink.DefaultMu, IdealLink.DefaultP);
        var bounds = DecoyStateEstimator.Estimate(link.ExpectedCounts(1e11), Security);
        Assert.NotNull(bounds.Problem);
        Assert.Contains("50%", bounds.Problem);
    }

    [Fact]
    public void Zero_X_errors_use_the_rate_free_sampling_bound()
    {
        var link = new IdealLink(0.01, 1e-6, 0.0, IdealLink.DefaultMu, IdealLink.DefaultP);
        var counts = link.ExpectedCounts(1e11);
        counts = counts with { ErrorsX = [0, 0, 0] };
        var bounds = DecoyStateEstimator.Estimate(counts, Security);
        Assert.Null(bounds.Problem);
        Assert.Equal(0, bounds.SinglePhotonErrorsXUpper);
        // phi_Z is the Serfling deviation alone: positive, small at this size, and finite.
        Assert.InRange(bounds.PhaseErrorRateZUpper, 1e-4, 0.05);
        double c = bounds.SinglePhotonEventsZLower, d = bounds.SinglePhotonEventsXLower;
        double serfling = (c + d) / c * Math.Sqrt((1 - (d - 1) / (c + d)) * Math.Log(21 / 1e-10) / (2 * d));
        Assert.Equal(serfling, bounds.PhaseErrorRateZUpper, 1e-12);
    }

    [Fact]
    public void Invalid_statistics_are_rejected_naming_the_problem()
    {
        long[] ok = [100, 10, 1];
        double[] mu = IdealLink.DefaultMu, p = IdealLink.DefaultP;
        void Rejects(DecoyStatistics s, string fragment) =>
            Assert.Contains(fragment, Assert.ThrowsAny<ArgumentException>(() => DecoyStateEstimator.Estimate(s, Security)).Message);

        Rejects(new DecoyStatistics([0.5, 0.3, 0.25], p, ok, ok, [0, 0, 0]), "mu1 > mu2 + mu3");
        Rejects(new DecoyStatistics([0.5, 0.1, 0.1], p, ok, ok, [0, 0, 0]), "mu2 > mu3");
        Rejects(new DecoyStatistics([0.5, 0.1, -0.01], p, ok, ok, [0, 0, 0]), "mu3 >= 0");
        Rejects(new DecoyStatistics(mu, [0.5, 0.2, 0.2], ok, ok, [0, 0, 0]), "sum to 1");
        Rejects(new DecoyStatistics(mu, [1.0, 0.0, 0.0], ok, ok, [0, 0, 0]), "(0, 1]");
        Rejects(new DecoyStatistics(mu, p, [100, -1, 1], ok, [0, 0, 0]), "DetectionsZ[Decoy]");
        Rejects(new DecoyStatistics(mu, p, ok, [100, 10, -1], [0, 0, 0]), "DetectionsX[Vacuum]");
        Rejects(new DecoyStatistics(mu, p, ok, ok, [0, 11, 0]), "ErrorsX[Decoy]");
        Rejects(new DecoyStatistics(mu, p, [1, 2], ok, [0, 0, 0]), "3 entries");
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            DecoyStateEstimator.Estimate(new DecoyStatistics(mu, p, ok, ok, [0, 0, 0]), new SecurityParameters(0, 1e-15)));
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            DecoyStateEstimator.Estimate(new DecoyStatistics(mu, p, ok, ok, [0, 0, 0]), new SecurityParameters(1e-10, 1)));
    }
}
