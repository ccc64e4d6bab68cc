using System.Numerics;
using Qkd.Core.Random;

namespace Qkd.Core.Tests.Entropy;

/// <summary>
/// The cutoffs of NIST SP 800-90B section 4.4: the Repetition Count Test's C = 1 + ⌈−log2(α)/H⌉ and the Adaptive
/// Proportion Test's C = 1 + CRITBINOM(W, 2^−H, 1 − α), against the standard's own numbers and against an exact
/// rational computation.
/// </summary>
public sealed class HealthTestCutoffTests
{
    [Theory]
    [InlineData(2.0, 20, 11)]   // the standard's worked example in section 4.4.1
    [InlineData(1.0, 20, 21)]
    [InlineData(1.0, 30, 31)]
    [InlineData(1.0, 40, 41)]
    [InlineData(0.5, 20, 41)]
    [InlineData(0.5, 30, 61)]
    [InlineData(8.0, 20, 4)]    // full-entropy bytes: 1 + ⌈2.5⌉
    [InlineData(8.0, 30, 5)]
    [InlineData(3.0, 20, 8)]    // 1 + ⌈6.67⌉
    [InlineData(0.25, 20, 81)]
    public void Repetition_count_cutoff_is_one_plus_the_ceiling_of_minus_log2_alpha_over_h(double h, int alphaExponent, int cutoff) =>
        Assert.Equal(cutoff, RepetitionCountTest.CutoffFor(h, alphaExponent));

    /// <summary>
    /// α = 2^−20 rows are those of the standard's table of APT cutoffs (binary W = 1024, non-binary W = 512); the others
    /// were computed exactly (rational arithmetic, p = 2^−H to 80 digits) outside this code base.
    /// </summary>
    [Theory]
    [InlineData(1.0, 20, 1024, 589)]
    [InlineData(0.8, 20, 1024, 664)]
    [InlineData(0.6, 20, 1024, 748)]   // its tail is within 0.2 % of α: a test of the summation's precision
    [InlineData(0.5, 20, 1024, 793)]
    [InlineData(0.4, 20, 1024, 840)]
    [InlineData(0.2, 20, 1024, 941)]
    [InlineData(1.0, 30, 1024, 609)]
    [InlineData(0.4, 30, 1024, 856)]
    [InlineData(0.2, 30, 1024, 952)]
    [InlineData(1.0, 40, 1024, 625)]
    [InlineData(0.5, 20, 512, 410)]
    [InlineData(1.0, 20, 512, 311)]
    [InlineData(2.0, 20, 512, 177)]
    [InlineData(3.5, 20, 512, 80)]
    [InlineData(4.0, 20, 512, 62)]
    [InlineData(8.0, 20, 512, 13)]
    [InlineData(1.0, 30, 512, 325)]
    [InlineData(2.0, 30, 512, 190)]
    [InlineData(4.0, 30, 512, 71)]
    [InlineData(8.0, 30, 512, 16)]
    [InlineData(8.0, 40, 512, 19)]
    public void Adaptive_proportion_cutoff_is_one_plus_critbinom(double h, int alphaExponent, int window, int cutoff) =>
        Assert.Equal(cutoff, AdaptiveProportionTest.CutoffFor(h, alphaExponent, window));

    /// <summary>
    /// For whole-bit H, p = 2^−H is a dyadic rational and CRITBINOM is exact in integers: P(X > k) ≤ 2^−a holds iff
    /// Σ_{j>k} C(W, j)·(2^H − 1)^(W−j) ≤ 2^(H·W − a). Every H of binary (1) and byte samples (1..8) and every α from
    /// 2^−20 to 2^−64 gives the same cutoff as the double-precision summation.
    /// </summary>
    [Theory]
    [InlineData(1, 1024)]
    [InlineData(1, 512)]
    [InlineData(2, 512)]
    [InlineData(3, 512)]
    [InlineData(4, 512)]
    [InlineData(5, 512)]
    [InlineData(6, 512)]
    [InlineData(7, 512)]
    [InlineData(8, 512)]
    public void Adaptive_proportion_cutoffs_equal_exact_integer_arithmetic(int h, int window)
    {
        // tails[k] = Σ_{j>k} C(W, j)·(2^H − 1)^(W−j), for k = W down to −1.
        var tails = new BigInteger[window + 2];
        BigInteger choose = 1, odds = (BigInteger.One << h) - 1, tail = 0;
        for (int j = window; j >= 0; j--)
        {
            tails[j + 1] = tail; // P(X > j) · 2^(HW)
            tail += choose * BigInteger.Pow(odds, window - j);
            if (j > 0) choose = choose * j / (window - j + 1);
        }
        Assert.Equal(BigInteger.One << (h * window), tail); // the probabilities sum to 1
        for (int a = 20; a <= 64; a++)
        {
            BigInteger bound = BigInteger.One << (h * window - a);
            int k = 0;
            while (tails[k + 1] > bound) k++;
            Assert.True(1 + k == AdaptiveProportionTest.CutoffFor(h, a, window), $"H = {h}, W = {window}, alpha = 2^-{a}: exact cutoff {1 + k}");
        }
    }

    [Fact]
    public void Options_give_the_cutoffs_and_windows_of_their_sample_kind()
    {
        var bits = new EntropyHealthOptions();
        Assert.Equal(1024, bits.WindowSize);
        Assert.Equal(31, bits.RepetitionCutoff);
        Assert.Equal(609, bits.ProportionCutoff);
        Assert.Equal(16 * 1024, bits.RecoverySamples);
        var bytes = new EntropyHealthOptions { Samples = EntropySampleKind.Byte, MinEntropyPerSample = 8, AlphaExponent = 20 };
        Assert.Equal(512, bytes.WindowSize);
        Assert.Equal(4, bytes.RepetitionCutoff);
        Assert.Equal(13, bytes.ProportionCutoff);
        var monitor = new EntropyHealthMonitor(bytes);
        Assert.Equal(4, monitor.RepetitionCount.Cutoff);
        Assert.Equal(13, monitor.AdaptiveProportion.Cutoff);
        Assert.Equal(512, monitor.AdaptiveProportion.WindowSize);
    }

    [Fact]
    public void Options_outside_their_ranges_are_refused_naming_the_setting()
    {
        Assert.Contains("MinEntropyPerSample", Assert.Throws<ArgumentOutOfRangeException>(() => new EntropyHealthOptions { MinEntropyPerSample = 1.5 }.Validate()).Message);
        Assert.Contains("MinEntropyPerSample", Assert.Throws<ArgumentOutOfRangeException>(() => new EntropyHealthOptions { MinEntropyPerSample = 0 }.Validate()).Message);
        new EntropyHealthOptions { Samples = EntropySampleKind.Byte, MinEntropyPerSample = 7.5 }.Validate();
        Assert.Contains("AlphaExponent", Assert.Throws<ArgumentOutOfRangeException>(() => new EntropyHealthOptions { AlphaExponent = 10 }.Validate()).Message);
        Assert.Contains("1024", Assert.Throws<ArgumentOutOfRangeException>(() =>
            new EntropyHealthOptions { Samples = EntropySampleKind.Byte, MinEntropyPerSample = 8, RecoveryWindows = 1 }.Validate()).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new EntropyHealthMonitor(new EntropyHealthOptions { RecoveryWindows = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RepetitionCountTest(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdaptiveProportionTest(1024, 1026));
    }
}
