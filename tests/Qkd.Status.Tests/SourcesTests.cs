using CsCheck;
using Qkd.Distillation;

namespace Qkd.Status.Tests;

/// <summary>The node's parts as the page reads them: a distilled block (with the transmittance estimate) and the QRNG.</summary>
public class SourcesTests
{
    private static readonly SignalLight Light = new(1e9, 0.65, 0.5, 0.75, 0.75);

    [Fact]
    public void Transmittance_inverts_the_Poisson_gain_of_the_signal_pulses()
    {
        // eta in (1e-6, 1): the expected sifted signal clicks of one second of light, rounded to whole clicks, give eta back
        // within what the rounding moves it (half a click in the gain, at most 1.3 times that in eta relatively).
        Gen.Double[1e-6, 1].Sample(eta =>
        {
            double sifted = 1e9 * 0.65 * Light.SiftProbability * (1 - Math.Exp(-eta * 0.5));
            double estimate = Light.Transmittance((long)Math.Round(sifted), 1.0);
            Assert.Equal(eta, estimate, eta * 2 / sifted + 1e-15);
        });
        Assert.Equal(0.625, Light.SiftProbability, 12);
    }

    [Theory]
    [InlineData(0, 1.0)] // no clicks: nothing to tell
    [InlineData(100, double.NaN)] // no light time (a block without key)
    [InlineData(100, 0.0)]
    [InlineData(1_000_000_000, 1.0)] // a gain of 1 or more is not Poisson light
    public void Transmittance_is_NaN_when_the_block_does_not_tell(long sifted, double lightSeconds) =>
        Assert.True(double.IsNaN(Light.Transmittance(sifted, lightSeconds)));

    [Fact]
    public void A_block_result_becomes_a_block_report()
    {
        var block = new BlockResult
        {
            BlockId = 7,
            Outcome = BlockOutcome.Key,
            SiftedZ = 1000,
            SiftedX = 500,
            SiftedZPerIntensity = [800, 150, 50],
            SiftedXPerIntensity = [400, 80, 20],
            ErrorsXPerIntensity = [10, 5, 0],
            ErrorsZPerIntensity = [20, 0, 0],
            SecretBits = 300,
            LightSeconds = 1e-3,
        };
        var report = BlockReports.From(block, Light);
        Assert.Equal(7, report.BlockId);
        Assert.True(report.ProducedKey);
        Assert.Equal(0.02, report.QberZ, 12);
        Assert.Equal(0.03, report.QberX, 12);
        Assert.Equal(300, report.SecretBits);
        Assert.Equal(Light.Transmittance(1200, 1e-3), report.Transmittance);
        Assert.True(double.IsNaN(BlockReports.From(block, null).Transmittance));

        var none = BlockReports.From(block with { Outcome = BlockOutcome.NoKey, Reason = "QBER too high", SecretBits = 0 }, Light);
        Assert.False(none.ProducedKey);
        Assert.Equal("QBER too high", none.Reason);
    }

    [Fact]
    public void A_failed_QRNG_is_unhealthy_and_says_which_test()
    {
        var failed = DeviceHealths.Qrng("qrng0", false, "repetition_count");
        Assert.False(failed.Healthy);
        Assert.Equal("repetition_count", failed.Detail);
        Assert.True(DeviceHealths.Qrng("qrng0", true, null).Healthy);
        Assert.True(DeviceHealths.Emulated("emulated bench").Healthy);
    }
}
