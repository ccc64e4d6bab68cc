using Qkd.Distillation.ErrorCorrection;

namespace Qkd.Distillation.Tests.ErrorCorrection;

public class BinaryEntropyTests
{
    [Theory]
    [InlineData(0.0, 0.0)]
    [InlineData(1.0, 0.0)]
    [InlineData(0.5, 1.0)]
    [InlineData(0.02, 0.14144054254)]
    [InlineData(0.11, 0.49991595816)]
    public void H2_matches_known_values(double p, double expected) =>
        Assert.Equal(expected, BinaryEntropy.H2(p), 9);

    [Fact]
    public void H2_is_symmetric() => Assert.Equal(BinaryEntropy.H2(0.03), BinaryEntropy.H2(0.97), 12);

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.1)]
    [InlineData(double.NaN)]
    public void H2_rejects_non_probabilities(double p) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => BinaryEntropy.H2(p));

    [Fact]
    public void Efficiency_is_leakage_over_the_Shannon_bound()
    {
        var result = new CascadeResult(LeakedBits: 1_500, CorrectedBits: 200, Rounds: 10, FrameLength: 10_000, QberEstimate: 0.02);
        Assert.Equal(1_500 / (10_000 * BinaryEntropy.H2(0.02)), result.Efficiency(0.02), 12);
        Assert.True(double.IsNaN(result.Efficiency(0)));
    }
}
