using Qkd.Core;
using Qkd.Emulation;

namespace Qkd.Emulation.Tests;

/// <summary>
/// The emulated honest channel against the analytic decoy-state model, Q_k = 1 - (1 - p_dark)^D exp(-eta mu_k)
/// (= Y0 + 1 - e^{-eta mu_k} to first order) and E_k Q_k (~ Y0/2 + e_mis (1 - e^{-eta mu_k})), here evaluated exactly
/// by the test's own receiver model. Dead time and afterpulsing are off: they are not part of that model.
/// </summary>
public sealed class HonestChannelStatisticsTests
{
    public static TheoryData<ReceiverLayout, double> Links()
    {
        var data = new TheoryData<ReceiverLayout, double>();
        foreach (ReceiverLayout layout in (ReceiverLayout[])[ReceiverLayout.PassiveFourDetector, ReceiverLayout.ActiveTwoDetector])
            foreach (double km in (double[])[0, 25, 50, 100])
                data.Add(layout, km);
        return data;
    }

    internal static LinkProfile WithoutDetectorMemory(LinkProfile p) => p with { DeadTimePs = 0, AfterpulseProbability = 0 };

    [Theory]
    [MemberData(nameof(Links))]
    public void Gain_multi_clicks_and_sifted_error_rate_per_intensity_match_the_model(ReceiverLayout layout, double km)
    {
        // A dark-count probability of 2e-5 makes the vacuum gain (~Y0) measurable in a short run.
        LinkProfile profile = WithoutDetectorMemory(LinkProfile.Default.WithDistance(km)) with
        {
            ReceiverLayout = layout,
            DarkCountProbabilityPerPulse = 2e-5,
        };
        var run = new LinkRun(profile, pulses: 30_000_000, seed: (ulong)(km * 10) + (ulong)layout);

        foreach (Intensity k in Intensities.All)
        {
            var expected = ReferenceReceiver.Honest(profile, k);
            long pulses = run.PulsesOf[(int)k];
            Stat.WithinBinomial(expected.Gain, run.Clicks[(int)k], pulses, what: $"{layout} {km} km {k} gain");
            Stat.WithinBinomial(expected.MultiClick / expected.Gain, run.MultiClicks[(int)k], run.Clicks[(int)k],
                what: $"{layout} {km} km {k} multi-click fraction");
            Stat.WithinBinomial(expected.ErrorRate, run.Errors[(int)k, 0] + run.Errors[(int)k, 1], run.SiftedCount(k),
                what: $"{layout} {km} km {k} sifted error rate");
            // Sifting itself: the share of clicks that land in Alice's basis.
            Stat.WithinBinomial((expected.Sifted[0] + expected.Sifted[1]) / expected.Gain, run.SiftedCount(k), run.Clicks[(int)k],
                what: $"{layout} {km} km {k} sifted fraction");
        }

        // The counters agree with the stream.
        EmulatorCounters counters = run.Link.Counters;
        Assert.Equal(run.Clicks.Sum(), counters.Clicks);
        Assert.Equal(run.MultiClicks.Sum(), counters.MultiClicks);
        Assert.Equal(0, counters.AfterpulseFirings);
        Assert.Equal(0, counters.FiringsLostToDeadTime);
        Assert.Equal(run.Pulses, run.Link.PulsesEmitted);
    }

    [Fact]
    public void Textbook_first_order_formulas_hold_for_the_reference_model_at_default_dark_counts()
    {
        // Ties the exact reference used above to the literature's formulas, which LinkModel implements.
        foreach (ReceiverLayout layout in (ReceiverLayout[])[ReceiverLayout.PassiveFourDetector, ReceiverLayout.ActiveTwoDetector])
        {
            LinkProfile profile = LinkProfile.Default.WithDistance(50) with { ReceiverLayout = layout };
            double eta = ReferenceReceiver.Eta(profile);
            double y0 = 1 - Math.Pow(1 - profile.DarkCountProbabilityPerPulse, ReferenceReceiver.Detectors(profile));
            var model = new LinkModel(profile, DefaultLink.Light, DefaultLink.Alice);
            foreach (Intensity k in Intensities.All)
            {
                double mu = ReferenceReceiver.Mu(k);
                var exact = ReferenceReceiver.Honest(profile, k);
                double q = y0 + 1 - Math.Exp(-eta * mu);
                Assert.Equal(q, exact.Gain, q * 1e-3);
                Assert.Equal(q, model.Gain(k), q * 1e-9);
                double eq = y0 / 2 + profile.MisalignmentError * (1 - Math.Exp(-eta * mu));
                Assert.Equal(eq, model.ErrorGain(k), eq * 1e-9);
                // The first-order error rate treats dark counts as if they fell into Alice's basis as often as light
                // does; with a 90:10 passive splitter (or active choice) they do not, which moves the decoy error rate
                // at 50 km by a few percent. Multi-click squashing adds less.
                Assert.Equal(eq / q, exact.ErrorRate, 0.08 * (eq / q));
            }
        }
    }
}
