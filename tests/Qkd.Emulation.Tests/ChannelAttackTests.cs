using System.Numerics;
using Qkd.Core;
using Qkd.Core.Symbols;
using Qkd.Emulation;

namespace Qkd.Emulation.Tests;

/// <summary>
/// The attacks of the breach drill, each checked in the physics: partial intercept-resend raises both bases' error
/// rates by the attacked share of the textbook quarter; blinding removes dark counts and afterpulses and makes the
/// gains follow Eve; time-shift tilts each detector pair by the efficiency mismatch; a tap lowers the gains by its dB
/// and leaves the error rate alone; blocked light leaves dark counts only; every attack waits for its start time.
/// </summary>
public sealed class ChannelAttackTests
{
    private static LinkProfile Quiet(LinkProfile p) => p with { DeadTimePs = 0, AfterpulseProbability = 0 };

    [Theory]
    [InlineData(0.4)]
    [InlineData(0.1)]
    public void Partial_intercept_resend_raises_both_bases_error_rates_by_the_fraction_times_a_quarter(double fraction)
    {
        // Bright pulses: Eve almost never finds one empty, so an attacked pulse is wrong a quarter of the time.
        LinkProfile profile = Quiet(LinkProfile.Default.WithDistance(100)) with { Eavesdropper = EavesdropperSpec.Parse($"ir:{fraction}") };
        var light = DefaultLink.Light with { SignalMeanPhotonNumber = 6 };
        var run = new LinkRun(profile, pulses: 20_000_000, seed: 21, light: light, countPulses: false);
        var honest = ReferenceReceiver.Honest(profile, Intensity.Signal, light);
        var attacked = ReferenceReceiver.Average(profile, (a, y) => EavesdropperTests.InterceptResendOutcome(profile, 6, a, y));
        foreach (Basis basis in (Basis[])[Basis.Z, Basis.X])
        {
            double rise = attacked.ErrorRateIn(basis) - honest.ErrorRateIn(basis);
            Assert.InRange(rise, 0.24, 0.25);
            double expected = honest.ErrorRateIn(basis) + fraction * rise;
            Stat.WithinBinomial(expected, run.Errors[0, (int)basis], run.Sifted[0, (int)basis], what: $"{basis} QBER with {fraction:P0} intercepted");
        }
    }

    [Fact]
    public void An_attack_with_a_start_time_leaves_the_pulses_before_it_alone()
    {
        var light = DefaultLink.Light;
        long onset = 5_000_000;
        LinkProfile profile = Quiet(LinkProfile.Default) with { Eavesdropper = EavesdropperSpec.Parse($"ir@{onset / light.PulseRateHz}s") };
        Assert.Equal(onset / light.PulseRateHz, profile.Eavesdropper.StartSeconds);
        var run = new LinkRun(profile, pulses: 10_000_000, seed: 22, keepClicks: true, countPulses: false);
        var before = new LinkRun(profile, pulses: onset, seed: 22, countPulses: false);
        // Up to the start nothing is attacked; after it every click is.
        Assert.Equal(0, before.Link.Counters.EavesdroppedClicks);
        long after = run.ClickList!.Count(c => c.PulseIndex >= onset);
        Assert.Equal(after, run.Link.Counters.EavesdroppedClicks);
    }

    // ---- Detector blinding ------------------------------------------------------------------------------------

    public static TheoryData<ReceiverLayout> Layouts() => new(ReceiverLayout.PassiveFourDetector, ReceiverLayout.ActiveTwoDetector);

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Blinding_removes_vacuum_clicks_and_makes_the_gains_follow_eves_detections_not_the_channel(ReceiverLayout layout)
    {
        LinkProfile honestProfile = Quiet(LinkProfile.Default.WithDistance(50)) with { ReceiverLayout = layout, DarkCountProbabilityPerPulse = 1e-5 };
        LinkProfile profile = honestProfile with { Eavesdropper = EavesdropperSpec.Parse("blinding") };
        const long pulses = 20_000_000;
        var honest = new LinkRun(honestProfile, pulses, seed: 23);
        var run = new LinkRun(profile, pulses, seed: 23);

        // Vacuum pulses click only by dark counts: about N p_vac 1e-5 D of them honestly, none under blinding.
        Assert.True(honest.Clicks[(int)Intensity.Vacuum] > 30, $"honest vacuum clicks {honest.Clicks[(int)Intensity.Vacuum]}");
        Assert.Equal(0, run.Clicks[(int)Intensity.Vacuum]);
        Assert.Equal(0, run.Link.Counters.DarkCountOnlyClicks);

        // Eve matches the honest signal gain; the decoy gain then follows her detection probability 1 - e^-mu.
        var light = DefaultLink.Light;
        double signal = ReferenceReceiver.Honest(honestProfile, Intensity.Signal).Gain;
        Stat.WithinBinomial(signal, run.Clicks[(int)Intensity.Signal], run.PulsesOf[(int)Intensity.Signal], what: "blinded signal gain");
        double decoy = signal * (1 - Math.Exp(-light.DecoyMeanPhotonNumber)) / (1 - Math.Exp(-light.SignalMeanPhotonNumber));
        Stat.WithinBinomial(decoy, run.Clicks[(int)Intensity.Decoy], run.PulsesOf[(int)Intensity.Decoy], what: "blinded decoy gain");
        double honestDecoy = ReferenceReceiver.Honest(honestProfile, Intensity.Decoy).Gain;
        Assert.True(Math.Abs(decoy - honestDecoy) > 0.1 * honestDecoy, $"decoy gain {decoy:G4} vs honest {honestDecoy:G4}: not distinguishable");

        if (layout == ReceiverLayout.ActiveTwoDetector)
        {
            // The textbook attack: a trigger in the other basis fires nothing, so Bob clicks only when he measures in
            // Eve's basis and then on her result, which is Alice's bit whenever Alice's basis is Eve's: no errors at all.
            Assert.Equal(0, run.Errors[0, 0] + run.Errors[0, 1]);
            Assert.Equal(0, run.MultiClicks.Sum());
        }
        else
        {
            // Passive 75/25 splitter: Z triggers fire their target alone; an X trigger bright enough for its X detector
            // also fires both Z detectors, so every X-basis trigger makes a multi-click that Bob squashes at random,
            // half of them into Z with a random bit: the splitter betrays the attack in the error rate.
            Assert.True(run.MultiClicks[0] > run.Clicks[0] / 3, $"{run.MultiClicks[0]} multi-clicks of {run.Clicks[0]}");
            Assert.True(run.ErrorRate(Intensity.Signal, Basis.Z) > 0.1, $"Z QBER {run.ErrorRate(Intensity.Signal, Basis.Z):P2} under blinding");
        }
    }

    [Fact]
    public void Blinded_detectors_stop_afterpulsing_from_the_start_of_the_attack()
    {
        LinkProfile profile = LinkProfile.Default with { AfterpulseProbability = 0.05, Eavesdropper = EavesdropperSpec.Parse("blinding@0.005s") };
        long onset = 5_000_000;
        var run = new LinkRun(profile, pulses: 10_000_000, seed: 24, keepClicks: true, countPulses: false);
        var before = new LinkRun(profile, pulses: onset, seed: 24, countPulses: false);
        EmulatorCounters all = run.Link.Counters;
        Assert.True(before.Link.Counters.AfterpulseFirings > 100, $"{before.Link.Counters.AfterpulseFirings} afterpulses before blinding");
        Assert.True(before.Link.Counters.DarkCountOnlyClicks > 0);
        // After the start no afterpulse fires (pending ones are cancelled) and no dark count either.
        Assert.Equal(before.Link.Counters.AfterpulseFirings, all.AfterpulseFirings);
        Assert.Equal(before.Link.Counters.DarkCountOnlyClicks, all.DarkCountOnlyClicks);
        Assert.True(run.ClickList!.Count(c => c.PulseIndex >= onset) > 10_000);
    }

    // ---- Time-shift -------------------------------------------------------------------------------------------

    [Fact]
    public void Time_shift_tilts_each_detector_pair_by_the_efficiency_mismatch_and_moves_the_tags()
    {
        const double shift = 100;
        LinkProfile profile = Quiet(LinkProfile.Default) with
        {
            DarkCountProbabilityPerPulse = 0,
            TimingJitterRmsPs = 0,
            Eavesdropper = EavesdropperSpec.Parse($"time-shift:{shift}ps"),
        };
        var alice = new SeededSymbolSource(24 * 31 + 7, DefaultLink.Alice);
        var link = new EmulatedLink(profile, DefaultLink.Light, alice, 24);
        var clock = new BobClock(profile, DefaultLink.Light.PulseRateHz);
        var buffer = new DetectorClick[1 << 14];
        // [side, bit]: single firings of conjugate-basis light, where the optics split it evenly between the pair.
        var firings = new long[2, 2];
        int n;
        while ((n = link.Emit(buffer, 20_000_000)) > 0)
            for (int i = 0; i < n; i++)
            {
                DetectorClick click = buffer[i];
                long offset = click.TimePs - clock.TimeAt(click.PulseIndex, 0);
                Assert.True(Math.Abs(Math.Abs(offset) - shift) <= 1, $"tag {offset} ps off its nominal time, expected +-{shift}");
                PulseSymbol symbol = alice.SymbolAt(click.PulseIndex);
                if (BitOperations.PopCount(click.ChannelMask) != 1) continue;
                int d = BitOperations.TrailingZeroCount(click.ChannelMask);
                if ((Basis)(d >> 1) == symbol.Basis) continue;
                firings[offset < 0 ? 0 : 1, d & 1]++;
            }
        for (int side = 0; side < 2; side++)
        {
            double t = side == 0 ? -shift : shift;
            double f0 = profile.EfficiencyFactorAt(0, t), f1 = profile.EfficiencyFactorAt(1, t);
            long total = firings[side, 0] + firings[side, 1];
            Assert.True(total > 20_000, $"{total} conjugate-basis firings");
            // Light of mean m per detector fires with 1 - e^-m, m ~ 1e-2 here: the share of bit 0 is f0 / (f0 + f1)
            // to within about m/2, well inside the tolerance below.
            double expected = f0 / (f0 + f1);
            Stat.WithinBinomial(expected, firings[side, 0], total, sigmas: 5, what: $"share of bit-0 firings, shift {t} ps");
        }
        // The default mismatch makes the attack worth Eve's while: early light favours bit 0 by more than 2:1.
        Assert.True(profile.EfficiencyFactorAt(0, -shift) > 2 * profile.EfficiencyFactorAt(1, -shift));
    }

    // ---- Fibre tap and blocked light --------------------------------------------------------------------------

    [Theory]
    [InlineData(0.3)]
    [InlineData(3.0)]
    public void A_tap_lowers_the_gains_by_its_loss_and_leaves_the_error_rate_unchanged(double db)
    {
        LinkProfile honestProfile = Quiet(LinkProfile.Default);
        long onset = 10_000_000;
        LinkProfile profile = honestProfile with { Eavesdropper = EavesdropperSpec.Parse($"tap:{db}dB@{onset / DefaultLink.Light.PulseRateHz}s") };
        var run = new LinkRun(profile, pulses: 30_000_000, seed: 25, keepClicks: true, countPulses: false);
        var alice = new SeededSymbolSource(25 * 31 + 7, DefaultLink.Alice);
        // The tapped link is the honest one with db more loss inside Bob's receiver, as far as the light goes.
        LinkProfile equivalent = honestProfile with { BobInternalLossDb = honestProfile.BobInternalLossDb + db };
        var expected = ReferenceReceiver.Honest(equivalent, Intensity.Signal);
        var expectedBefore = ReferenceReceiver.Honest(honestProfile, Intensity.Signal);
        long[] signalPulses = new long[2];
        for (long i = 0; i < 30_000_000; i++)
            if (alice.IntensityAt(i) == Intensity.Signal) signalPulses[i < onset ? 0 : 1]++;
        long[] clicks = new long[2], sifted = new long[2], errors = new long[2];
        var squash = new Core.Random.Xoshiro256StarStar(99);
        foreach (DetectorClick click in run.ClickList!)
        {
            PulseSymbol symbol = alice.SymbolAt(click.PulseIndex);
            if (symbol.Intensity != Intensity.Signal) continue;
            int part = click.PulseIndex < onset ? 0 : 1;
            clicks[part]++;
            var (basis, bit) = LinkRun.Decode(profile.ReceiverLayout, click, squash);
            if (basis != symbol.Basis) continue;
            sifted[part]++;
            if (bit != symbol.Bit) errors[part]++;
        }
        Stat.WithinBinomial(expectedBefore.Gain, clicks[0], signalPulses[0], what: "signal gain before the tap");
        Stat.WithinBinomial(expected.Gain, clicks[1], signalPulses[1], what: $"signal gain with a {db} dB tap");
        Stat.WithinBinomial(expectedBefore.ErrorRate, errors[1], sifted[1], what: $"QBER with a {db} dB tap");
        // The measured drop in dB, within statistics of the stated loss.
        double measuredDb = -10 * Math.Log10(((double)clicks[1] / signalPulses[1]) / ((double)clicks[0] / signalPulses[0]));
        double sigmaDb = 10 / Math.Log(10) * Math.Sqrt(1.0 / clicks[0] + 1.0 / clicks[1]);
        Assert.InRange(measuredDb, db - 4 * sigmaDb - 0.01, db + 4 * sigmaDb + 0.01);
    }

    [Fact]
    public void Blocked_light_leaves_dark_counts_only()
    {
        LinkProfile profile = Quiet(LinkProfile.Default) with { DarkCountProbabilityPerPulse = 1e-5, Eavesdropper = EavesdropperSpec.Parse("dos") };
        var run = new LinkRun(profile, pulses: 10_000_000, seed: 26, countPulses: false);
        EmulatorCounters counters = run.Link.Counters;
        Assert.Equal(counters.Clicks, counters.DarkCountOnlyClicks);
        double y0 = 1 - Math.Pow(1 - profile.DarkCountProbabilityPerPulse, 4);
        Stat.WithinBinomial(y0, counters.Clicks, 10_000_000, what: "clicks per pulse with the light blocked");
    }

    [Fact]
    public void The_spec_syntax_reads_back_what_it_writes_and_names_bad_values()
    {
        foreach (string text in (string[])["none", "intercept-resend:0.25", "pns:1", "blinding@0.5s", "time-shift:100ps", "tap:0.3dB@1.5s", "dos@1s", "ir:0.5@0.2s"])
            Assert.Equal(EavesdropperSpec.Parse(text), EavesdropperSpec.Parse(EavesdropperSpec.Parse(text).ToString()));
        Assert.Equal(0.3, EavesdropperSpec.Parse("bend:0.3").ExtraLossDb);
        Assert.Equal(EavesdropperKind.DenialOfService, EavesdropperSpec.Parse("block").Kind);
        Assert.Contains("Tap loss", Assert.Throws<FormatException>(() => EavesdropperSpec.Parse("tap:-1dB")).Message);
        Assert.Contains("start", Assert.Throws<FormatException>(() => EavesdropperSpec.Parse("dos@soon")).Message);
        Assert.Contains("takes no value", Assert.Throws<FormatException>(() => EavesdropperSpec.Parse("blinding:2")).Message);
        var json = LinkProfile.Default with { Eavesdropper = EavesdropperSpec.Parse("tap:0.3dB@1.5s") };
        Assert.Equal(json, LinkProfile.Parse(json.ToJson()));
        Assert.Contains("\"extraLossDb\": 0.3", json.ToJson());
        var bad = Assert.Throws<LinkProfileException>(() => LinkProfile.Parse("""{ "eavesdropper": { "kind": "FibreTap", "extraLossDb": -2 } }"""));
        Assert.Contains("eavesdropper.extraLossDb", bad.Message);
    }
}
