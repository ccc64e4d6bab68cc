using Qkd.Core;
using Qkd.Emulation;

namespace Qkd.Emulation.Tests;

/// <summary>The attacks change exactly what physics says they change: intercept-resend the error rate, PNS the gains.</summary>
public sealed class EavesdropperTests
{
    private static LinkProfile Quiet(LinkProfile p) => p with { DeadTimePs = 0, AfterpulseProbability = 0 };

    /// <summary>
    /// Bob's outcome when Eve intercepts Alice's (basis a, bit y) pulse of mean mu: Eve picks a basis at random; in
    /// Alice's basis she reads y if the pulse held a photon (1 - e^-mu) and guesses otherwise; in the other basis her
    /// result is a coin. Bob receives a coherent pulse of mean mu in Eve's basis and result.
    /// </summary>
    internal static ReferenceReceiver.Outcome InterceptResendOutcome(LinkProfile p, double mu, Basis a, int y)
    {
        double nonVacuum = 1 - Math.Exp(-mu);
        var mixture = new List<(double Weight, ReferenceReceiver.Outcome Outcome)>();
        foreach (Basis eve in (Basis[])[Basis.Z, Basis.X])
            for (int bit = 0; bit < 2; bit++)
            {
                double pBit = eve != a ? 0.5 : bit == y ? nonVacuum + (1 - nonVacuum) / 2 : (1 - nonVacuum) / 2;
                mixture.Add((0.5 * pBit, ReferenceReceiver.Measure(p, mu, eve, bit)));
            }
        var result = new double[2, 2];
        double click = 0, multi = 0;
        foreach (var (w, o) in mixture)
        {
            click += w * o.Click;
            multi += w * o.MultiClick;
            for (int b = 0; b < 2; b++)
                for (int x = 0; x < 2; x++)
                    result[b, x] += w * o.Result[b, x];
        }
        return new ReferenceReceiver.Outcome(click, multi, result);
    }

    public static TheoryData<ReceiverLayout> Layouts() => new(ReceiverLayout.PassiveFourDetector, ReceiverLayout.ActiveTwoDetector);

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Intercept_resend_on_every_pulse_keeps_the_gains_and_raises_both_bases_error_rates(ReceiverLayout layout)
    {
        LinkProfile profile = Quiet(LinkProfile.Default.WithDistance(25)) with
        {
            ReceiverLayout = layout,
            Eavesdropper = EavesdropperSpec.Parse("intercept-resend:1"),
            DarkCountProbabilityPerPulse = 1e-5,
        };
        var run = new LinkRun(profile, pulses: 30_000_000, seed: 11);

        foreach (Intensity k in (Intensity[])[Intensity.Signal, Intensity.Decoy])
        {
            double mu = ReferenceReceiver.Mu(k);
            var honest = ReferenceReceiver.Honest(profile, k);
            var attacked = ReferenceReceiver.Average(profile, (a, y) => InterceptResendOutcome(profile, mu, a, y));
            Assert.Equal(honest.Gain, attacked.Gain, honest.Gain * 1e-12);
            Stat.WithinBinomial(honest.Gain, run.Clicks[(int)k], run.PulsesOf[(int)k], what: $"{k} gain under intercept-resend");
            foreach (Basis basis in (Basis[])[Basis.Z, Basis.X])
            {
                double expected = attacked.ErrorRateIn(basis);
                // Eve guesses on the e^-mu share of pulses she found empty: QBER = 1/4 + e^-mu/4 (+ misalignment terms).
                Assert.Equal(0.25 + Math.Exp(-mu) / 4, expected, 0.02);
                Stat.WithinBinomial(expected, run.Errors[(int)k, (int)basis], run.Sifted[(int)k, (int)basis],
                    what: $"{layout} {k} {basis} QBER under intercept-resend");
            }
        }
        Assert.Equal(run.Link.Counters.Clicks, run.Link.Counters.EavesdroppedClicks);
    }

    [Fact]
    public void Intercept_resend_of_bright_pulses_gives_the_textbook_quarter_error_rate()
    {
        // With mu = 6 Eve almost never finds a pulse empty, so she introduces the single-photon 25%.
        LinkProfile profile = Quiet(LinkProfile.Default.WithDistance(100)) with { Eavesdropper = EavesdropperSpec.InterceptResend() };
        var light = DefaultLink.Light with { SignalMeanPhotonNumber = 6 };
        var run = new LinkRun(profile, pulses: 20_000_000, seed: 12, light: light);
        double mu = light.SignalMeanPhotonNumber;
        var expected = ReferenceReceiver.Average(profile, (a, y) => InterceptResendOutcome(profile, mu, a, y));
        foreach (Basis basis in (Basis[])[Basis.Z, Basis.X])
        {
            // The expectation is a quarter plus half the misalignment; the measurement agrees with it.
            Assert.InRange(expected.ErrorRateIn(basis), 0.25, 0.26);
            Stat.WithinBinomial(expected.ErrorRateIn(basis), run.Errors[0, (int)basis], run.Sifted[0, (int)basis], what: $"{basis} QBER");
        }
    }

    [Fact]
    public void Partial_intercept_resend_attacks_the_configured_share_of_clicks()
    {
        LinkProfile profile = Quiet(LinkProfile.Default) with { Eavesdropper = EavesdropperSpec.InterceptResend(0.3) };
        var run = new LinkRun(profile, pulses: 10_000_000, seed: 13, countPulses: false);
        EmulatorCounters counters = run.Link.Counters;
        Stat.WithinBinomial(0.3, counters.EavesdroppedClicks, counters.Clicks, what: "share of clicks attacked");
        // Signal QBER is the 0.3 : 0.7 mixture of the attacked and honest error rates (sifted shares are equal).
        double mu = DefaultLink.Light.SignalMeanPhotonNumber;
        var honest = ReferenceReceiver.Honest(profile, Intensity.Signal);
        var attacked = ReferenceReceiver.Average(profile, (a, y) => InterceptResendOutcome(profile, mu, a, y));
        double expected = 0.3 * attacked.ErrorRateIn(Basis.Z) + 0.7 * honest.ErrorRateIn(Basis.Z);
        Stat.WithinBinomial(expected, run.Errors[0, 0], run.Sifted[0, 0], what: "Z QBER with 30% intercepted");
    }

    // ---- Photon-number splitting ------------------------------------------------------------------------------

    /// <summary>
    /// Light part of the gain of an attacked pulse of mean mu: s P(1) eta_B + t sum_{n>=2} P(n) (1 - (1 - eta_B)^(n-1)),
    /// with the sum in closed form, sum_{n>=2} P(n) q^(n-1) = e^-mu (e^(mu q) - 1 - mu q) / q for q = 1 - eta_B.
    /// </summary>
    private static double AttackedLight(double mu, double etaB, double s, double t)
    {
        double q = 1 - etaB;
        double multiPhoton = 1 - Math.Exp(-mu) - mu * Math.Exp(-mu);
        double keptByQ = Math.Exp(-mu) * (Math.Exp(mu * q) - 1 - mu * q) / q;
        return s * mu * Math.Exp(-mu) * etaB + t * (multiPhoton - keptByQ);
    }

    /// <summary>Eve's (s, t): match the honest signal light gain, blocking single photons when she can.</summary>
    private static (double S, double T) ForwardFractions(LinkProfile p)
    {
        double etaB = ReferenceReceiver.ReceiverEta(p), mu1 = DefaultLink.Light.SignalMeanPhotonNumber;
        double target = 1 - Math.Exp(-ReferenceReceiver.Eta(p) * mu1);
        double multi = AttackedLight(mu1, etaB, 0, 1);
        if (multi >= target) return (0, target / multi);
        return (Math.Min(1, (target - multi) / AttackedLight(mu1, etaB, 1, 0)), 1);
    }

    /// <summary>Vacuum + weak decoy lower bound on the single-photon yield (Ma, Qi, Zhao, Lo 2005, eq. 34).</summary>
    private static double SinglePhotonYieldLowerBound(TransmitterLight light, double q1, double q2, double y0)
    {
        double mu1 = light.SignalMeanPhotonNumber, mu2 = light.DecoyMeanPhotonNumber;
        return mu1 / (mu1 * mu2 - mu2 * mu2)
            * (q2 * Math.Exp(mu2) - q1 * Math.Exp(mu1) * mu2 * mu2 / (mu1 * mu1) - (mu1 * mu1 - mu2 * mu2) / (mu1 * mu1) * y0);
    }

    [Fact]
    public void Photon_number_splitting_at_50_km_keeps_the_signal_gain_and_leaves_no_single_photon_yield()
    {
        LinkProfile honestProfile = Quiet(LinkProfile.Default.WithDistance(50)) with { DarkCountProbabilityPerPulse = 1e-5 };
        LinkProfile profile = honestProfile with { Eavesdropper = EavesdropperSpec.Parse("pns") };
        const long pulses = 40_000_000;
        var run = new LinkRun(profile, pulses, seed: 17);
        var honestRun = new LinkRun(honestProfile, pulses, seed: 18);

        double y0 = 1 - Math.Pow(1 - profile.DarkCountProbabilityPerPulse, 4);
        double eta = ReferenceReceiver.Eta(profile), etaB = ReferenceReceiver.ReceiverEta(profile);
        (double s, double t) = ForwardFractions(profile);
        Assert.Equal(0, s);
        Assert.InRange(t, 0.1, 0.99);

        // Signal: indistinguishable from the honest link.
        double honestSignal = 1 - (1 - y0) * Math.Exp(-eta * run.Light.SignalMeanPhotonNumber);
        Stat.WithinBinomial(honestSignal, run.Clicks[0], run.PulsesOf[0], what: "signal gain under PNS");
        // Decoy: fewer multi-photon pulses, so clearly below the honest decoy gain, where the attack model puts it.
        double honestDecoy = 1 - (1 - y0) * Math.Exp(-eta * run.Light.DecoyMeanPhotonNumber);
        double attackedDecoy = 1 - (1 - y0) * (1 - AttackedLight(run.Light.DecoyMeanPhotonNumber, etaB, s, t));
        Stat.WithinBinomial(attackedDecoy, run.Clicks[1], run.PulsesOf[1], what: "decoy gain under PNS");
        double decoySd = Math.Sqrt(honestDecoy / run.PulsesOf[1]);
        Assert.True(honestDecoy - run.Gain(Intensity.Decoy) > 10 * decoySd,
            $"decoy gain {run.Gain(Intensity.Decoy)} not clearly below honest {honestDecoy}");
        // Vacuum: nothing to split, only dark counts.
        Stat.WithinBinomial(y0, run.Clicks[2], run.PulsesOf[2], what: "vacuum gain under PNS");

        // The decoy-state estimate sees the attack: no single-photon yield, against ~eta on the honest link.
        double y1Attacked = SinglePhotonYieldLowerBound(run.Light, run.Gain(Intensity.Signal), run.Gain(Intensity.Decoy), run.Gain(Intensity.Vacuum));
        double y1Honest = SinglePhotonYieldLowerBound(honestRun.Light, honestRun.Gain(Intensity.Signal), honestRun.Gain(Intensity.Decoy), honestRun.Gain(Intensity.Vacuum));
        Assert.True(y1Honest > 0.8 * eta, $"honest Y1 lower bound {y1Honest} vs eta {eta}");
        Assert.True(y1Attacked < 0.1 * eta, $"PNS Y1 lower bound {y1Attacked} vs eta {eta}");

        // Splitting does not disturb the photons Bob gets: the error rate stays at the misalignment level.
        Assert.InRange(run.ErrorRate(Intensity.Signal), 0.5 * profile.MisalignmentError, 1.5 * profile.MisalignmentError);
        Assert.Equal(run.Link.Counters.Clicks, run.Link.Counters.EavesdroppedClicks);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(20.0)]
    public void Photon_number_splitting_at_short_distance_forwards_single_photons_as_needed(double km)
    {
        LinkProfile profile = Quiet(LinkProfile.Default.WithDistance(km)) with { Eavesdropper = EavesdropperSpec.PhotonNumberSplitting(0.8) };
        var run = new LinkRun(profile, pulses: 20_000_000, seed: 19);
        double y0 = 1 - Math.Pow(1 - profile.DarkCountProbabilityPerPulse, 4);
        double eta = ReferenceReceiver.Eta(profile), etaB = ReferenceReceiver.ReceiverEta(profile);
        (double s, double t) = ForwardFractions(profile);
        Assert.Equal(1, t);
        Assert.True(s > 0);
        foreach (Intensity k in Intensities.All)
        {
            double mu = ReferenceReceiver.Mu(k);
            double honest = 1 - (1 - y0) * Math.Exp(-eta * mu);
            double attacked = 1 - (1 - y0) * (1 - AttackedLight(mu, etaB, s, t));
            Stat.WithinBinomial(0.8 * attacked + 0.2 * honest, run.Clicks[(int)k], run.PulsesOf[(int)k], what: $"{km} km {k} gain, 80% PNS");
        }
    }
}
