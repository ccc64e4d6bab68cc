using CsCheck;
using Qkd.Distillation.ParameterEstimation;

namespace Qkd.Distillation.Tests.ParameterEstimation;

/// <summary>Sanity of every analysis on random links (CsCheck): monotone in the data, bounds that bracket the truth.</summary>
public class FiniteKeyAnalysisPropertyTests
{
    private static readonly Gen<(double Km, double MisalignmentError, FiniteKeyAnalysisKind Kind)> Links =
        Gen.Select(Gen.Double[0, 120], Gen.Double[0.005, 0.04], Gen.Enum<FiniteKeyAnalysisKind>());

    private static DecoyLinkModel Link(double misalignment, FiniteKeyAnalysisKind kind) =>
        kind == FiniteKeyAnalysisKind.Rusca2018
            ? new(0.1, 1e-6, misalignment, 0.2, [0.5, 0.15, 0.0], [0.7, 0.3, 0.0], 0.8, 0.75, 1.1)
            : new(0.1, 1e-6, misalignment, 0.2, [0.5, 0.15, 0.0], [0.65, 0.25, 0.10], 0.8, 0.75, 1.1);

    [Fact]
    public void More_counts_of_the_same_link_never_give_less_key()
    {
        Links.Sample(t =>
        {
            var link = Link(t.MisalignmentError, t.Kind);
            var analysis = FiniteKeyAnalyses.For(t.Kind);
            long previous = 0;
            foreach (long block in new long[] { 1 << 16, 1 << 19, 1 << 22, 1 << 25 })
            {
                long bits = link.KeyLength(analysis, t.Km, block).SecretBits;
                Assert.True(bits >= previous, $"{t.Kind} at {t.Km:F1} km: {bits} bits from {block}, {previous} from a smaller block");
                previous = bits;
            }
        }, iter: 60);
    }

    [Fact]
    public void Fewer_errors_never_give_less_key()
    {
        Links.Sample(t =>
        {
            var analysis = FiniteKeyAnalyses.For(t.Kind);
            long noisier = Link(t.MisalignmentError * 1.2, t.Kind).KeyLength(analysis, t.Km, 1 << 22).SecretBits;
            long cleaner = Link(t.MisalignmentError, t.Kind).KeyLength(analysis, t.Km, 1 << 22).SecretBits;
            Assert.True(cleaner >= noisier);
        }, iter: 60);
    }

    [Fact]
    public void The_bounds_bracket_the_true_single_photon_counts_and_error_rate_on_expected_data()
    {
        Links.Sample(t =>
        {
            var link = Link(t.MisalignmentError, t.Kind);
            var (statistics, errorsZ) = link.ExpectedCounts(t.Km, 1 << 22);
            var b = FiniteKeyAnalyses.For(t.Kind).Estimate(statistics, errorsZ, new SecurityParameters());
            double pulses = link.Pulses(t.Km, 1 << 22), eta = link.Eta(t.Km);
            double y1 = 1 - (1 - link.Y0) * (1 - eta), e1 = (link.MisalignmentError * eta + link.Y0 * (1 - eta) / 2) / y1;
            double tau1 = Enumerable.Range(0, 3).Sum(k => link.P[k] * link.Mu[k] * Math.Exp(-link.Mu[k]));
            double tau0 = Enumerable.Range(0, 3).Sum(k => link.P[k] * Math.Exp(-link.Mu[k]));
            double trueS1 = pulses * link.AliceProbabilityZ * link.BobProbabilityZ * tau1 * y1;
            double trueS0 = pulses * link.AliceProbabilityZ * link.BobProbabilityZ * tau0 * link.Y0;
            Assert.True(b.SinglePhotonEventsZLower <= trueS1);
            Assert.True(b.VacuumEventsZLower <= trueS0 * 1.001 + 1);
            if (b.Problem is null) Assert.True(b.PhaseErrorRateZUpper >= e1);
        }, iter: 100);
    }

    [Fact]
    public void Every_analysis_lists_its_epsilons_with_eps_sec_and_eps_cor()
    {
        var security = new SecurityParameters(1e-9, 1e-12);
        foreach (var kind in FiniteKeyAnalyses.All)
        {
            var epsilons = FiniteKeyAnalyses.For(kind).Epsilons(security);
            Assert.Contains(epsilons, e => e.Name == "eps_sec" && e.Value == 1e-9);
            Assert.Contains(epsilons, e => e.Name == "eps_cor" && e.Value == 1e-12);
            Assert.All(epsilons, e => Assert.InRange(e.Value, 0, 1e-9));
        }
    }
}
