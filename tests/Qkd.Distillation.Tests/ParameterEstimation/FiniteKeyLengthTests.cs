using CsCheck;
using Qkd.Distillation.ErrorCorrection;
using Qkd.Distillation.ParameterEstimation;

namespace Qkd.Distillation.Tests.ParameterEstimation;

public class FiniteKeyLengthTests
{
    private static readonly SecurityParameters Security = new();

    private static IdealLink Link(double eta = 0.01, double misalignment = 0.01) =>
        new(eta, 1e-6, misalignment, IdealLink.DefaultMu, IdealLink.DefaultP);

    [Fact]
    public void Length_is_the_sum_of_its_terms_floored()
    {
        var bounds = new DecoyStateBounds(1000, 200_000, 500, 150_000, 3000, 0.02, 0.03, null);
        var length = FiniteKeyLength.Compute(bounds, 50_000, 122, Security);
        double cost = 6 * Math.Log2(21 / 1e-10) + 122;
        double single = 200_000 * (1 - BinaryEntropy.H2(0.03));
        Assert.Equal(1000, length.VacuumTerm);
        Assert.Equal(single, length.SinglePhotonTerm, 1e-9);
        Assert.Equal(50_000, length.ErrorCorrectionLeak);
        Assert.Equal(cost, length.VerificationAndSecrecyCost, 1e-9);
        Assert.Equal(1000 + single - 50_000 - cost, length.RawValue, 1e-6);
        Assert.Equal((long)Math.Floor(length.RawValue), length.SecretBits);
        Assert.Null(length.NoKeyReason);
    }

    [Fact]
    public void Verification_cost_is_at_least_log2_of_two_over_eps_cor()
    {
        var bounds = new DecoyStateBounds(0, 1e6, 0, 1e6, 1e4, 0.01, 0.012, null);
        double secrecy = 6 * Math.Log2(21 / 1e-10);
        Assert.Equal(secrecy + Math.Log2(2 / 1e-15), FiniteKeyLength.Compute(bounds, 0, 0, Security).VerificationAndSecrecyCost, 1e-9);
        Assert.Equal(secrecy + Math.Log2(2 / 1e-15), FiniteKeyLength.Compute(bounds, 0, 40, Security).VerificationAndSecrecyCost, 1e-9);
        Assert.Equal(secrecy + 183, FiniteKeyLength.Compute(bounds, 0, 183, Security).VerificationAndSecrecyCost, 1e-9);
    }

    [Fact]
    public void Key_grows_with_the_block_size()
    {
        long previous = 0;
        foreach (double pulses in new[] { 1e9, 3e9, 1e10, 3e10, 1e11, 1e12 })
        {
            var length = Link().KeyLength(pulses, Security);
            Assert.True(length.SecretBits > previous, $"{pulses:E0} pulses: {length.SecretBits} bits ({length.NoKeyReason})");
            previous = length.SecretBits;
        }
        // The rate per pulse approaches its asymptote from below.
        double rate11 = Link().KeyLength(1e11, Security).SecretBits / 1e11;
        double rate13 = Link().KeyLength(1e13, Security).SecretBits / 1e13;
        Assert.True(rate13 > rate11);
    }

    [Fact]
    public void Key_shrinks_as_the_error_rate_rises()
    {
        long previous = long.MaxValue;
        foreach (double misalignment in new[] { 0.0, 0.01, 0.02, 0.04, 0.06 })
        {
            var length = Link(misalignment: misalignment).KeyLength(1e12, Security);
            Assert.True(length.SecretBits > 0 && length.SecretBits < previous, $"e_mis {misalignment}: {length.SecretBits} bits");
            previous = length.SecretBits;
        }
        // About 8% QBER: the Shannon-limit leak at f = 1.16 already exceeds the single-photon term.
        var none = Link(misalignment: 0.08).KeyLength(1e12, Security);
        Assert.Equal(0, none.SecretBits);
        Assert.Contains("error correction", none.NoKeyReason);
    }

    [Fact]
    public void A_25_percent_error_rate_leaves_no_key_and_says_why()
    {
        var link = Link(misalignment: 0.25);
        Assert.InRange(link.QberZ, 0.24, 0.26);
        var length = link.KeyLength(1e13, Security);
        Assert.Equal(0, length.SecretBits);
        Assert.False(string.IsNullOrWhiteSpace(length.NoKeyReason));
        Assert.True(length.RawValue < 0);
    }

    [Fact]
    public void Huge_loss_leaves_no_key_and_says_why()
    {
        // 60 dB of loss: at 1e10 pulses the background swamps the few signal clicks.
        var length = Link(eta: 1e-6).KeyLength(1e10, Security);
        Assert.Equal(0, length.SecretBits);
        Assert.False(string.IsNullOrWhiteSpace(length.NoKeyReason));
    }

    [Fact]
    public void Problem_in_the_bounds_means_no_key_with_that_reason()
    {
        var bounds = new DecoyStateBounds(1e6, 0, 0, 0, 0, double.NaN, double.NaN, "no single-photon detections can be certified");
        var length = FiniteKeyLength.Compute(bounds, 0, 122, Security);
        Assert.Equal(0, length.SecretBits);
        Assert.Equal(bounds.Problem, length.NoKeyReason);
    }

    [Fact]
    public void Invalid_inputs_throw()
    {
        var bounds = new DecoyStateBounds(0, 1e6, 0, 1e6, 1e4, 0.01, 0.012, null);
        Assert.Throws<ArgumentOutOfRangeException>(() => FiniteKeyLength.Compute(bounds, -1, 122, Security));
        Assert.Throws<ArgumentOutOfRangeException>(() => FiniteKeyLength.Compute(bounds, 0, -1, Security));
        Assert.Throws<ArgumentException>(() => FiniteKeyLength.Compute(bounds with { SinglePhotonEventsZLower = -5 }, 0, 122, Security));
        Assert.Throws<ArgumentException>(() => FiniteKeyLength.Compute(bounds with { PhaseErrorRateZUpper = double.NaN }, 0, 122, Security));
        Assert.Throws<ArgumentOutOfRangeException>(() => FiniteKeyLength.Compute(bounds, 0, 122, new SecurityParameters(2, 1e-15)));
    }

    [Fact]
    public void Key_length_is_monotone_in_block_size_error_rate_and_epsilon()
    {
        Gen.Select(Gen.Double[-3, -1], Gen.Double[0, 0.05], Gen.Double[9.5, 12], Gen.Double[-12, -6]).Sample((logEta, misalignment, logPulses, logEps) =>
        {
            var link = Link(Math.Pow(10, logEta), misalignment);
            double pulses = Math.Pow(10, logPulses);
            var security = new SecurityParameters(Math.Pow(10, logEps), 1e-15);
            long baseline = link.KeyLength(pulses, security).SecretBits;
            long morePulses = link.KeyLength(2 * pulses, security).SecretBits;
            long moreErrors = Link(Math.Pow(10, logEta), misalignment + 0.01).KeyLength(pulses, security).SecretBits;
            long stricter = link.KeyLength(pulses, security with { EpsilonSecrecy = security.EpsilonSecrecy / 100 }).SecretBits;
            return morePulses >= baseline && moreErrors <= baseline && stricter <= baseline
                   && baseline <= link.ExpectedCounts(pulses).DetectionsZ.Sum();
        }, iter: 200);
    }
}
