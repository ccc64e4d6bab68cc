using Qkd.Core;
using Qkd.Core.Symbols;

namespace Qkd.Emulation.Tests;

/// <summary>
/// Classical traffic in the fibre: the Raman power follows the published formulas, and the emulator's background
/// clicks (no light from Alice, no dark counts) match the formula's photons per gate within statistics, per detector.
/// </summary>
public sealed class RamanScatteringTests
{
    private static readonly LinkProfile Quiet = LinkProfile.Default with
    {
        DarkCountProbabilityPerPulse = 0,
        AfterpulseProbability = 0,
        DeadTimePs = 0,
    };

    private static CoexistingChannel Channel(double dbm, CoexistenceDirection direction) =>
        new() { LaunchPowerDbm = dbm, WavelengthNm = 1310, Direction = direction, RamanCrossSectionPerKmNm = 3e-9 };

    [Theory]
    [InlineData(25.0)]
    [InlineData(80.0)]
    public void Co_propagating_power_is_P_out_rho_L_delta_lambda(double km)
    {
        var profile = Quiet.WithDistance(km) with { ReceiverFilterBandwidthNm = 0.8 };
        double pIn = 1e-3, alpha = 0.2 * Math.Log(10) / 10;
        double expected = pIn * Math.Exp(-alpha * km) * 3e-9 * km * 0.8;
        Assert.Equal(expected, RamanScattering.PowerAtReceiverWatts(profile, Channel(0, CoexistenceDirection.CoPropagating)), expected * 1e-9);
    }

    [Theory]
    [InlineData(25.0)]
    [InlineData(80.0)]
    public void Counter_propagating_power_is_P_in_rho_delta_lambda_times_the_backscatter_integral(double km)
    {
        var profile = Quiet.WithDistance(km) with { ReceiverFilterBandwidthNm = 0.8 };
        double pIn = 1e-3, alpha = 0.2 * Math.Log(10) / 10;
        double expected = pIn * 3e-9 * 0.8 * (1 - Math.Exp(-2 * alpha * km)) / (2 * alpha);
        Assert.Equal(expected, RamanScattering.PowerAtReceiverWatts(profile, Channel(0, CoexistenceDirection.CounterPropagating)), expected * 1e-9);
    }

    [Fact]
    public void A_different_loss_at_the_classical_wavelength_integrates_the_same_scattering()
    {
        // Numerical integral of P_in e^(-a_c z) rho dl e^(-a_q (L - z)) dz against the closed form.
        var profile = Quiet.WithDistance(40);
        var channel = Channel(0, CoexistenceDirection.CoPropagating) with { LossDbPerKm = 0.33 };
        double ac = 0.33 * Math.Log(10) / 10, aq = 0.2 * Math.Log(10) / 10, sum = 0;
        const int steps = 200_000;
        for (int i = 0; i < steps; i++)
        {
            double z = (i + 0.5) * 40.0 / steps;
            sum += Math.Exp(-ac * z) * Math.Exp(-aq * (40 - z)) * 40.0 / steps;
        }
        double expected = 1e-3 * 3e-9 * profile.EffectiveFilterBandwidthNm * sum;
        Assert.Equal(expected, RamanScattering.PowerAtReceiverWatts(profile, channel), expected * 1e-6);
    }

    [Fact]
    public void A_dark_fibre_adds_nothing()
    {
        Assert.Equal(0, RamanScattering.DetectedPhotonsPerGate(LinkProfile.Default, 1000));
        Assert.Equal(0, RamanScattering.DetectedPhotonsPerGate(LinkProfile.Default with { ClassicalChannels = [] }, 1000));
    }

    [Theory]
    [InlineData(ReceiverLayout.PassiveFourDetector, CoexistenceDirection.CoPropagating)]
    [InlineData(ReceiverLayout.PassiveFourDetector, CoexistenceDirection.CounterPropagating)]
    [InlineData(ReceiverLayout.ActiveTwoDetector, CoexistenceDirection.CoPropagating)]
    public void Emulated_background_counts_match_the_formula(ReceiverLayout layout, CoexistenceDirection direction)
    {
        // Only vacuum pulses with mu = 0: every click is Raman light. About 1e-2 photons per gate, 4e6 gates.
        var profile = Quiet with { ReceiverLayout = layout, ClassicalChannels = [Channel(-3, direction)] };
        var light = TransmitterLight.Default;
        double n = RamanScattering.DetectedPhotonsPerGate(profile, light.PulsePeriodPs);
        Assert.InRange(n, 1e-3, 5e-2);
        var link = new EmulatedLink(profile, light, new SeededSymbolSource(11, new SymbolDistribution(0.75, [0, 0, 1])), seed: 5);
        const long pulses = 4_000_000;
        var buffer = new DetectorClick[8192];
        long clicks = 0;
        var firings = new long[profile.DetectorCount];
        int count;
        while ((count = link.Emit(buffer, pulses)) > 0)
            foreach (var click in buffer.AsSpan(0, count))
            {
                clicks++;
                for (int d = 0; d < firings.Length; d++)
                    if ((click.ChannelMask & (1 << d)) != 0) firings[d]++;
            }

        AssertWithinStatistics(pulses, -double.ExpM1(-n), clicks, "clicks");
        // Per detector: unpolarised light shared like light of a random basis and bit.
        for (int d = 0; d < firings.Length; d++)
        {
            double share = layout == ReceiverLayout.ActiveTwoDetector ? 0.5 : (d < 2 ? profile.BobProbabilityZ : 1 - profile.BobProbabilityZ) / 2;
            AssertWithinStatistics(pulses, -double.ExpM1(-n * share), firings[d], $"detector {d}");
        }
        // The analytic background yield the reports use agrees.
        var model = new LinkModel(profile, light, new SymbolDistribution(0.75, [0, 0, 1]));
        Assert.Equal(-double.ExpM1(-n), model.BackgroundYield, 1e-12);
    }

    /// <summary>Binomial count within 5 standard deviations of its expectation.</summary>
    private static void AssertWithinStatistics(long trials, double p, long observed, string what)
    {
        double mean = trials * p, sigma = Math.Sqrt(trials * p * (1 - p));
        Assert.True(Math.Abs(observed - mean) < 5 * sigma, $"{what}: {observed} observed, {mean:F0} ± {sigma:F0} expected");
    }

    [Fact]
    public void A_profile_reads_classical_channels_and_names_a_bad_field()
    {
        var profile = LinkProfile.Parse("""
            { "classicalChannels": [ { "launchPowerDbm": -10, "wavelengthNm": 1550.9, "direction": "CounterPropagating" } ],
              "receiverFilterBandwidthNm": 0.4, "detectorGateWidthPs": 100 }
            """);
        var channel = Assert.Single(profile.ClassicalChannels!);
        Assert.Equal((-10.0, 1550.9, CoexistenceDirection.CounterPropagating, 3e-9), (channel.LaunchPowerDbm, channel.WavelengthNm, channel.Direction, channel.RamanCrossSectionPerKmNm));
        Assert.Equal(0.4, profile.EffectiveFilterBandwidthNm);
        Assert.Equal(profile.ClassicalChannels, LinkProfile.Parse(profile.ToJson()).ClassicalChannels!);

        var e = Assert.Throws<LinkProfileException>(() => LinkProfile.Parse("""{ "classicalChannels": [ { "launchPowerDbm": 50 } ] }"""));
        Assert.Contains("classicalChannels[0].launchPowerDbm", e.Message);
        Assert.Throws<LinkProfileException>(() => LinkProfile.Parse("""{ "classicalChannels": [ { "launchPowerDbm": 0, "direction": "Sideways" } ] }"""));
    }
}
