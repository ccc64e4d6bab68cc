using Qkd.Core;
using Qkd.Emulation;

namespace Qkd.Emulation.Tests;

public sealed class LinkModelTests
{
    [Fact]
    public void Expectations_at_the_default_25_km_link_match_hand_computed_values()
    {
        var model = new LinkModel(LinkProfile.Default, DefaultLink.Light, DefaultLink.Alice);
        // eta = 10^(-(25 * 0.2 + 1.5) / 10) * 0.25 = 10^-0.65 / 4
        double eta = 0.22387211385683395 * 0.25;
        Assert.Equal(eta, model.Transmittance, 1e-15);
        // 1 - (1 - p)^4 expanded, since the direct form loses digits for p = 1e-6.
        const double p = 1e-6;
        double y0 = 4 * p - 6 * p * p + 4 * p * p * p - p * p * p * p;
        Assert.Equal(y0, model.BackgroundYield, 1e-20);
        Assert.Equal(y0 + 1 - Math.Exp(-eta * 0.5), model.Gain(Intensity.Signal), 1e-15);
        Assert.Equal(y0 + 1 - Math.Exp(-eta * 0.15), model.Gain(Intensity.Decoy), 1e-15);
        Assert.Equal(y0, model.Gain(Intensity.Vacuum), 1e-18);
        Assert.Equal(0.5, model.ErrorRate(Intensity.Vacuum), 1e-12);
        Assert.Equal((y0 / 2 + 0.01 * (1 - Math.Exp(-eta * 0.5))) / (y0 + 1 - Math.Exp(-eta * 0.5)), model.ErrorRate(Intensity.Signal), 1e-12);
        double y1 = 1 - (1 - y0) * (1 - eta);
        Assert.Equal(y1, model.SinglePhotonYield, 1e-15);
        Assert.Equal((y0 / 2 + 0.01 * eta) / y1, model.SinglePhotonErrorRate, 1e-12);
        double rate = 1e9 * (0.65 * model.Gain(Intensity.Signal) + 0.25 * model.Gain(Intensity.Decoy) + 0.1 * y0);
        Assert.Equal(rate, model.ClickRatePerSecond, rate * 1e-12);
    }

    [Fact]
    public void Active_receiver_has_two_detectors_worth_of_background()
    {
        var model = new LinkModel(LinkProfile.Default with { ReceiverLayout = ReceiverLayout.ActiveTwoDetector, DarkCountProbabilityPerPulse = 1e-3 },
            DefaultLink.Light, DefaultLink.Alice);
        Assert.Equal(1 - 0.999 * 0.999, model.BackgroundYield, 1e-15);
    }

    [Fact]
    public void Rejects_an_invalid_profile()
    {
        Assert.Throws<ArgumentNullException>(() => new LinkModel(null!, DefaultLink.Light, DefaultLink.Alice));
        Assert.Throws<ArgumentNullException>(() => new LinkModel(LinkProfile.Default, null!, DefaultLink.Alice));
        Assert.Throws<LinkProfileException>(() => new LinkModel(LinkProfile.Default with { DetectorEfficiency = 0 }, DefaultLink.Light, DefaultLink.Alice));
        Assert.Throws<LinkProfileException>(() => new LinkModel(LinkProfile.Default, DefaultLink.Light with { PulseRateHz = 0 }, DefaultLink.Alice));
    }
}
