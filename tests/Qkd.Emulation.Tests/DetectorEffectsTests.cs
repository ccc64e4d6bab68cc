using System.Numerics;
using Qkd.Core;
using Qkd.Emulation;

namespace Qkd.Emulation.Tests;

/// <summary>Dead time, afterpulsing and dark counts: the parts of the receiver model that are not in the decoy formulas.</summary>
public sealed class DetectorEffectsTests
{
    public static TheoryData<ReceiverLayout> Layouts() => new(ReceiverLayout.PassiveFourDetector, ReceiverLayout.ActiveTwoDetector);

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Dead_time_keeps_each_detectors_clicks_apart_and_thins_them_as_a_non_paralysable_detector(ReceiverLayout layout)
    {
        // Short link, bright pulses: detectors fire often enough that dead time removes a large share of clicks.
        LinkProfile profile = LinkProfile.Default.WithDistance(0) with
        {
            ReceiverLayout = layout,
            AfterpulseProbability = 0,
            DeadTimePs = 20_000,
        };
        const long pulses = 20_000_000;
        var run = new LinkRun(profile, pulses, seed: 3, keepClicks: true, countPulses: false);
        int detectors = ReferenceReceiver.Detectors(profile);
        double period = DefaultLink.Light.PulsePeriodPs;
        long deadSlots = (long)Math.Ceiling(profile.DeadTimePs / period);

        var last = new long[detectors];
        Array.Fill(last, long.MinValue / 2);
        var firings = new long[detectors];
        foreach (DetectorClick click in run.ClickList!)
            for (int d = 0; d < detectors; d++)
            {
                if ((click.ChannelMask >> d & 1) == 0) continue;
                Assert.True((click.PulseIndex - last[d]) * period >= profile.DeadTimePs,
                    $"detector {d} fired at pulses {last[d]} and {click.PulseIndex}, closer than {profile.DeadTimePs} ps");
                last[d] = click.PulseIndex;
                firings[d]++;
            }

        // Without dead time detector d would fire in each slot independently with probability c_d (averaged over what
        // Alice sent). A non-paralysable detector blind for n - 1 slots after each firing then fires at the renewal
        // rate c / (1 + c (n - 1)).
        for (int d = 0; d < detectors; d++)
        {
            double c = MeanFiringProbability(profile, d);
            double expected = c / (1 + c * (deadSlots - 1));
            Stat.WithinBinomial(expected, firings[d], pulses, what: $"{layout} detector {d} firing rate with dead time");
        }
        EmulatorCounters counters = run.Link.Counters;
        Assert.True(counters.FiringsLostToDeadTime > counters.DetectorFirings / 20, $"only {counters.FiringsLostToDeadTime} firings lost");
        Assert.Equal(firings.Sum(), counters.DetectorFirings);
    }

    [Fact]
    public void Afterpulses_follow_about_afterpulse_probability_of_the_firings_and_respect_dead_time()
    {
        // A long link keeps the light rate low, so a pending afterpulse is rarely replaced by a new real click.
        LinkProfile profile = LinkProfile.Default.WithDistance(150) with { AfterpulseProbability = 0.05 };
        var run = new LinkRun(profile, pulses: 2_000_000_000, seed: 5, keepClicks: true, countPulses: false);
        EmulatorCounters counters = run.Link.Counters;
        Assert.True(counters.DetectorFirings > 100_000, $"{counters.DetectorFirings} firings");

        // Every firing, afterpulses included, spawns an afterpulse with probability p.
        Stat.WithinBinomial(profile.AfterpulseProbability, counters.AfterpulsesScheduled, counters.DetectorFirings,
            what: "afterpulses scheduled per firing");
        // Nearly all of them fire; the rest were replaced by real clicks or are still pending at the end.
        long pendingAtEnd = counters.AfterpulsesScheduled - counters.AfterpulseFirings - counters.AfterpulsesReplaced;
        Assert.InRange(pendingAtEnd, 0, ReferenceReceiver.Detectors(profile));
        Assert.True(counters.AfterpulsesReplaced < 0.02 * counters.AfterpulsesScheduled, $"{counters.AfterpulsesReplaced} replaced");
        Stat.WithinBinomial(profile.AfterpulseProbability, counters.AfterpulseFirings + counters.AfterpulsesReplaced + pendingAtEnd,
            counters.DetectorFirings, what: "afterpulse firings per firing");

        // Inter-arrival: afterpulses show up as an excess of same-detector gaps shortly after the dead time. Their
        // delay is dead time + Exp(decay), so a gap below dead time + 5 decay constants follows a firing with
        // probability p (1 - e^-5) from the afterpulse, or else if ordinary light/dark firing (probability c_d per
        // slot) arrives within those 5 decay constants.
        double period = DefaultLink.Light.PulsePeriodPs;
        double window = 5 * profile.AfterpulseDecayPs;
        var last = new long[4];
        Array.Fill(last, long.MinValue / 2);
        var shortGaps = new long[4];
        var gaps = new long[4];
        foreach (DetectorClick click in run.ClickList!)
            for (int d = 0; d < 4; d++)
            {
                if ((click.ChannelMask >> d & 1) == 0) continue;
                double gapPs = (click.PulseIndex - last[d]) * period;
                Assert.True(gapPs >= profile.DeadTimePs);
                if (last[d] >= 0)
                {
                    gaps[d]++;
                    if (gapPs < profile.DeadTimePs + window) shortGaps[d]++;
                }
                last[d] = click.PulseIndex;
            }
        for (int d = 0; d < 4; d++)
        {
            double background = 1 - Math.Pow(1 - MeanFiringProbability(profile, d), window / period);
            double expected = 1 - (1 - profile.AfterpulseProbability * (1 - Math.Exp(-5))) * (1 - background);
            Stat.WithinBinomial(expected, shortGaps[d], gaps[d], what: $"detector {d} share of gaps within 5 decay constants");
        }
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Without_light_only_dark_counts_click_at_the_dark_count_rate(ReceiverLayout layout)
    {
        // 2000 km of fibre: 400 dB, no photon ever arrives.
        LinkProfile profile = LinkProfile.Default.WithDistance(2000) with
        {
            ReceiverLayout = layout,
            DarkCountProbabilityPerPulse = 1e-3,
            DeadTimePs = 0,
            AfterpulseProbability = 0,
        };
        const long pulses = 10_000_000;
        var run = new LinkRun(profile, pulses, seed: 9, keepClicks: true, countPulses: false);
        EmulatorCounters counters = run.Link.Counters;
        int detectors = ReferenceReceiver.Detectors(profile);
        double pd = profile.DarkCountProbabilityPerPulse;

        Stat.WithinBinomial(1 - Math.Pow(1 - pd, detectors), counters.Clicks, pulses, what: "dark click rate");
        double single = detectors * pd * Math.Pow(1 - pd, detectors - 1);
        Stat.WithinBinomial(1 - Math.Pow(1 - pd, detectors) - single, counters.MultiClicks, pulses, what: "dark multi-click rate");
        Assert.Equal(counters.Clicks, counters.DarkCountOnlyClicks);
        for (int d = 0; d < detectors; d++)
            Stat.WithinBinomial(pd, run.ClickList!.Count(c => (c.ChannelMask >> d & 1) != 0), pulses, what: $"detector {d} dark rate");
        Assert.All(run.ClickList!, c => Assert.True(c.ChannelMask != 0 && c.ChannelMask < 1 << detectors));
    }

    [Fact]
    public void Dark_count_only_clicks_are_counted_as_such_when_light_is_present()
    {
        // At 200 km and a high dark-count probability most clicks are dark counts; the counter must see that share.
        LinkProfile profile = LinkProfile.Default.WithDistance(200) with
        {
            DarkCountProbabilityPerPulse = 1e-4,
            DeadTimePs = 0,
            AfterpulseProbability = 0,
        };
        var run = new LinkRun(profile, pulses: 200_000_000, seed: 21, countPulses: false);
        EmulatorCounters counters = run.Link.Counters;
        // P(click with no photon detected) = P(no light anywhere) * (1 - (1 - pd)^4), averaged over intensities.
        double eta = ReferenceReceiver.Eta(profile), pd = profile.DarkCountProbabilityPerPulse;
        double darkOnly = 0, any = 0;
        foreach (Intensity k in Intensities.All)
        {
            double w = ReferenceReceiver.IntensityProbability(k), mu = ReferenceReceiver.Mu(k);
            darkOnly += w * Math.Exp(-eta * mu) * (1 - Math.Pow(1 - pd, 4));
            any += w * (1 - Math.Exp(-eta * mu) * Math.Pow(1 - pd, 4));
        }
        Stat.WithinBinomial(darkOnly / any, counters.DarkCountOnlyClicks, counters.Clicks, what: "dark-only share of clicks");
    }

    /// <summary>c_d averaged over Alice's intensity, basis and bit (and Bob's active setting).</summary>
    internal static double MeanFiringProbability(LinkProfile p, int detector)
    {
        double eta = ReferenceReceiver.Eta(p), pd = p.DarkCountProbabilityPerPulse, e = p.MisalignmentError, bz = p.BobProbabilityZ;
        double sum = 0;
        foreach (Intensity k in Intensities.All)
            foreach (Basis a in (Basis[])[Basis.Z, Basis.X])
                for (int y = 0; y < 2; y++)
                {
                    double w = ReferenceReceiver.IntensityProbability(k) * ReferenceReceiver.BasisProbability(a) / 2;
                    double mu = ReferenceReceiver.Mu(k);
                    if (p.ReceiverLayout == ReceiverLayout.PassiveFourDetector)
                    {
                        var b = detector < 2 ? Basis.Z : Basis.X;
                        double share = (b == Basis.Z ? bz : 1 - bz) * (b != a ? 0.5 : (detector & 1) == y ? 1 - e : e);
                        sum += w * (1 - (1 - pd) * Math.Exp(-mu * eta * share));
                    }
                    else
                    {
                        foreach (Basis b in (Basis[])[Basis.Z, Basis.X])
                        {
                            double share = b != a ? 0.5 : detector == y ? 1 - e : e;
                            sum += w * (b == Basis.Z ? bz : 1 - bz) * (1 - (1 - pd) * Math.Exp(-mu * eta * share));
                        }
                    }
                }
        return sum;
    }
}
