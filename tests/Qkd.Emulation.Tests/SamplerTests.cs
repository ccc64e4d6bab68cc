using Qkd.Core;
using Qkd.Core.Random;
using Qkd.Emulation;

namespace Qkd.Emulation.Tests;

/// <summary>The internal random-variate machinery: ziggurats, alias tables, click-pattern tables.</summary>
public sealed class SamplerTests
{
    [Fact]
    public void Ziggurat_tail_starts_solved_from_the_densities_match_the_published_256_layer_constants()
    {
        // Marsaglia and Tsang (2000): r = 3.6541528853610088 (normal), 7.69711747013104972 (exponential).
        Assert.Equal(3.6541528853610088, NormalSampler.Tables.TailStart, 1e-9);
        Assert.Equal(7.69711747013104972, ExponentialSampler.Tables.TailStart, 1e-9);
        Assert.Equal(0.00492867323399, NormalSampler.Tables.LayerArea, 1e-12);
        Assert.Equal(0.0039496598225815571993, ExponentialSampler.Tables.LayerArea, 1e-12);
    }

    [Fact]
    public void Mills_ratio_matches_known_normal_tail_areas()
    {
        // Q(x) = phi(x) R(x); Q(1) = 0.158655253931457, Q(3) = 0.00134989803163009.
        double Q(double x) => Math.Exp(-x * x / 2) / Math.Sqrt(2 * Math.PI) * NormalSampler.MillsRatio(x);
        Assert.Equal(0.158655253931457, Q(1), 1e-9);
        Assert.Equal(0.00134989803163009, Q(3), 1e-13);
    }

    [Fact]
    public void Normal_sampler_has_the_moments_and_distribution_of_a_standard_normal()
    {
        var random = new Xoshiro256StarStar(1);
        const int n = 2_000_000;
        var x = new double[n];
        for (int i = 0; i < n; i++) x[i] = NormalSampler.Next(random);
        double mean = x.Average();
        double variance = x.Select(v => (v - mean) * (v - mean)).Average();
        double fourth = x.Select(v => v * v * v * v).Average();
        Assert.InRange(mean, -4 / Math.Sqrt(n), 4 / Math.Sqrt(n));
        Assert.InRange(variance, 1 - 4 * Math.Sqrt(2.0 / n), 1 + 4 * Math.Sqrt(2.0 / n));
        Assert.InRange(fourth, 3 - 4 * Math.Sqrt(96.0 / n), 3 + 4 * Math.Sqrt(96.0 / n));
        // Kolmogorov-Smirnov against Phi; 1.95 / sqrt(n) is the 0.1% critical value.
        Array.Sort(x);
        double d = 0;
        for (int i = 0; i < n; i += 97)
        {
            double f = EmulatedLinkStreamTests.StandardNormalCdf(x[i]);
            d = Math.Max(d, Math.Max(Math.Abs(f - (double)i / n), Math.Abs(f - (double)(i + 1) / n)));
        }
        Assert.True(d < 1.95 / Math.Sqrt(n), $"KS distance {d}");
        // The tail beyond r (sampled by a separate branch) has its share: P(|Z| > 3.654) = 2.58e-4.
        long tail = x.LongCount(v => Math.Abs(v) > NormalSampler.Tables.TailStart);
        Stat.WithinBinomial(2 * 1.2899e-4, tail, n, what: "normal tail share");
    }

    [Fact]
    public void Exponential_sampler_has_the_moments_and_distribution_of_a_standard_exponential()
    {
        var random = new Xoshiro256StarStar(2);
        const int n = 2_000_000;
        var x = new double[n];
        for (int i = 0; i < n; i++) x[i] = ExponentialSampler.Next(random);
        double mean = x.Average();
        double variance = x.Select(v => (v - mean) * (v - mean)).Average();
        Assert.InRange(mean, 1 - 4 / Math.Sqrt(n), 1 + 4 / Math.Sqrt(n));
        Assert.InRange(variance, 1 - 4 * Math.Sqrt(8.0 / n), 1 + 4 * Math.Sqrt(8.0 / n));
        Array.Sort(x);
        double d = 0;
        for (int i = 0; i < n; i += 97)
        {
            double f = 1 - Math.Exp(-x[i]);
            d = Math.Max(d, Math.Max(Math.Abs(f - (double)i / n), Math.Abs(f - (double)(i + 1) / n)));
        }
        Assert.True(d < 1.95 / Math.Sqrt(n), $"KS distance {d}");
        // The memoryless tail: P(E > r) = e^-r, and beyond r the excess is again Exp(1).
        double r = ExponentialSampler.Tables.TailStart;
        Stat.WithinBinomial(Math.Exp(-r), x.LongCount(v => v > r), n, what: "exponential tail share");
        Assert.All(x, v => Assert.True(v >= 0 && double.IsFinite(v)));
    }

    [Fact]
    public void Alias_table_samples_each_outcome_with_its_weight()
    {
        double[] weights = [0.5, 0.0, 3.0, 1e-3, 1.5, 0.25, 2.0];
        uint[] outcomes = [10, 11, 12, 13, 14, 15, 16];
        var table = new AliasTable(weights, outcomes);
        var random = new Xoshiro256StarStar(3);
        const int n = 2_000_000;
        var counts = new Dictionary<uint, long>();
        for (int i = 0; i < n; i++)
        {
            uint o = table.Sample(random.NextUInt64());
            counts[o] = counts.GetValueOrDefault(o) + 1;
        }
        double total = weights.Sum();
        for (int i = 0; i < weights.Length; i++)
            Stat.WithinBinomial(weights[i] / total, counts.GetValueOrDefault(outcomes[i]), n, what: $"outcome {outcomes[i]}");
        Assert.Equal(n, counts.Values.Sum());
    }

    [Fact]
    public void Alias_table_rejects_bad_weights()
    {
        Assert.Throws<ArgumentException>(() => new AliasTable([0.0, 0.0], [1u, 2u]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AliasTable([1.0, -1.0], [1u, 2u]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AliasTable([1.0, double.NaN], [1u, 2u]));
        Assert.Throws<ArgumentException>(() => new AliasTable([1.0], [1u, 2u]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AliasTable([], []));
        var single = new AliasTable([2.0], [7u]);
        Assert.Equal(7u, single.Sample(ulong.MaxValue));
        Assert.Equal(7u, single.Sample(0));
    }

    [Theory]
    [InlineData(ReceiverLayout.PassiveFourDetector)]
    [InlineData(ReceiverLayout.ActiveTwoDetector)]
    public void Click_pattern_table_matches_the_sequential_conditional_rule(ReceiverLayout layout)
    {
        // Bright light and many dark counts so that multi-clicks and dark firings are frequent.
        LinkProfile profile = LinkProfile.Default.WithDistance(0) with
        {
            ReceiverLayout = layout,
            DarkCountProbabilityPerPulse = 0.05,
        };
        var optics = new ReceiverOptics(profile);
        double eta = profile.TotalTransmittance, mu = 3, pd = 0.05;
        double Mean(Basis setting, int d) => mu * eta * optics.ShareOf(Basis.Z, 1, setting, d);
        AliasTable table = ClickPatternTable.Build(optics, Mean, pd, includeSettings: true)!;

        // Reference: P(pattern | >= 1 fires) by the sequential rule, per setting, times the setting probability.
        var expected = new Dictionary<(uint, Basis), double>();
        foreach (Basis setting in optics.BasisSettings)
        {
            int detectors = optics.DetectorCount;
            var c = new double[detectors];
            for (int d = 0; d < detectors; d++) c[d] = 1 - (1 - pd) * Math.Exp(-Mean(setting, d));
            for (uint mask = 1; mask < 1u << detectors; mask++)
            {
                double prob = 1;
                bool fired = false;
                for (int d = 0; d < detectors; d++)
                {
                    bool fires = (mask >> d & 1) != 0;
                    double p;
                    if (fired) p = c[d];
                    else
                    {
                        double noneFromHere = 1;
                        for (int j = d; j < detectors; j++) noneFromHere *= 1 - c[j];
                        p = c[d] / (1 - noneFromHere);
                    }
                    prob *= fires ? p : 1 - p;
                    fired |= fires;
                }
                expected[(mask, setting)] = optics.ProbabilityOfSetting(setting) * prob;
            }
        }

        var random = new Xoshiro256StarStar(4);
        const int n = 1_000_000;
        var counts = new Dictionary<(uint, Basis), long>();
        long darkOnlyFirings = 0, firings = 0;
        for (int i = 0; i < n; i++)
        {
            uint outcome = table.Sample(random.NextUInt64());
            var key = (ClickOutcome.Fired(outcome), ClickOutcome.ActiveBasis(outcome));
            counts[key] = counts.GetValueOrDefault(key) + 1;
            Assert.Equal(0u, ClickOutcome.DarkOnly(outcome) & ~ClickOutcome.Fired(outcome));
            darkOnlyFirings += System.Numerics.BitOperations.PopCount(ClickOutcome.DarkOnly(outcome));
            firings += System.Numerics.BitOperations.PopCount(ClickOutcome.Fired(outcome));
        }
        Assert.Equal(1.0, expected.Values.Sum(), 1e-12);
        foreach (var (key, p) in expected)
            Stat.WithinBinomial(p, counts.GetValueOrDefault(key), n, what: $"pattern {key}");
        Assert.True(darkOnlyFirings > 0 && darkOnlyFirings < firings);
    }

    [Fact]
    public void Precise_math_keeps_digits_for_tiny_arguments()
    {
        Assert.Equal(1e-12 - 0.5e-24, PreciseMath.Log1P(1e-12), 1e-27);
        Assert.Equal(-1e-15, PreciseMath.ExpM1(-1e-15), 1e-30);
        Assert.Equal(Math.Log(1.5), PreciseMath.Log1P(0.5), 1e-15);
        Assert.Equal(Math.Exp(2) - 1, PreciseMath.ExpM1(2), 1e-14);
        // 1 - (1 - 1e-12)^4 = 4e-12 to 12 digits; the naive form loses about four of them.
        Assert.Equal(4e-12, PreciseMath.OneMinusExp(4 * PreciseMath.Log1P(-1e-12)), 1e-23);
    }

    [Fact]
    public void Photon_number_splitting_fractions_switch_from_forwarding_single_photons_to_thinning_multi_photons_near_35_km()
    {
        double receiver = LinkProfile.Default.ReceiverTransmittance;
        var (s30, t30) = PhotonNumberSplittingAttack.ChooseForwardFractions(0.5, LinkProfile.Default.WithDistance(30).TotalTransmittance, receiver);
        var (s40, t40) = PhotonNumberSplittingAttack.ChooseForwardFractions(0.5, LinkProfile.Default.WithDistance(40).TotalTransmittance, receiver);
        Assert.True(s30 > 0 && t30 == 1, $"30 km: s {s30}, t {t30}");
        Assert.True(s40 == 0 && t40 < 1, $"40 km: s {s40}, t {t40}");
        double[] poisson = PhotonNumberSplittingAttack.PoissonDistribution(0.5);
        Assert.Equal(1.0, poisson.Sum(), 1e-15);
        Assert.Equal(Math.Exp(-0.5) * 0.125 / 6, poisson[3], 1e-17);
    }
}
