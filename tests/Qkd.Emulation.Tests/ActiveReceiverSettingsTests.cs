using Qkd.Core;
using Qkd.Core.Symbols;
using Qkd.Core.TimeTags;
using Qkd.Emulation.TimeTagging;

namespace Qkd.Emulation.Tests;

/// <summary>
/// An active receiver measuring in Bob's own settings: every click carries the setting Bob chose for its slot, the
/// statistics are those of a BB84 measurement in that basis, slots without a basis detect nothing, and the tagger
/// writes one basis-marker tag at the pattern's start.
/// </summary>
public class ActiveReceiverSettingsTests
{
    private static readonly LinkProfile Active = LinkProfile.Default.WithDistance(5) with { ReceiverLayout = ReceiverLayout.ActiveTwoDetector };

    [Fact]
    public void Clicks_are_measured_in_the_setting_bob_chose_and_err_only_at_the_misalignment_rate()
    {
        var alice = new Qkd.Core.Symbols.SeededSymbolSource(5, new SymbolDistribution(0.5, [0.65, 0.25, 0.10]));
        var bases = BasisChoices.Seeded(0.5, 77);
        var link = new EmulatedLink(Active, TransmitterLight.Default, alice, 3, new BasisChoiceSettings(bases));
        var clicks = new DetectorClick[1 << 16];
        long matching = 0, errors = 0;
        for (int round = 0; round < 8; round++)
        {
            int n = link.Emit(clicks, long.MaxValue);
            foreach (DetectorClick click in clicks.AsSpan(0, n))
            {
                Assert.Equal(bases.BasisAt(click.PulseIndex), click.ActiveBasis);
                PulseSymbol sent = alice.SymbolAt(click.PulseIndex);
                if (sent.Basis != click.ActiveBasis || sent.Intensity != Intensity.Signal || System.Numerics.BitOperations.PopCount(click.ChannelMask) != 1) continue;
                matching++;
                if ((click.ChannelMask == 2 ? 1 : 0) != sent.Bit) errors++;
            }
        }
        Assert.True(matching > 50_000, $"{matching} matching clicks");
        // Misalignment 1% plus dark counts and afterpulses: a few percent at most; a setting drawn independently of the
        // one looked up would give 25%.
        Assert.InRange((double)errors / matching, 0.002, 0.04);
        Assert.Equal(0, link.Counters.ClicksWithoutBasis);
    }

    [Fact]
    public void Slots_without_a_basis_detect_nothing_and_are_counted()
    {
        var alice = new Qkd.Core.Symbols.SeededSymbolSource(5, new SymbolDistribution(0.5, [0.65, 0.25, 0.10]));
        const long start = 100_000, length = 2_000_000;
        var link = new EmulatedLink(Active, TransmitterLight.Default, alice, 3, new BasisChoiceSettings(BasisChoices.Seeded(0.5, 1), start, length));
        var clicks = new DetectorClick[4096];
        long emitted = 0;
        while (link.PulsesEmitted < 3 * length)
        {
            int n = link.Emit(clicks, 3 * length);
            foreach (DetectorClick click in clicks.AsSpan(0, n))
            {
                Assert.InRange(click.PulseIndex, start, start + length - 1);
                emitted++;
            }
        }
        Assert.True(emitted > 1000);
        Assert.True(link.Counters.ClicksWithoutBasis > emitted / 2, $"{link.Counters.ClicksWithoutBasis} clicks without basis, {emitted} emitted");
    }

    [Fact]
    public void The_tagger_marks_the_patterns_first_slot_once_at_its_light_arrival_plus_the_marker_delay()
    {
        var alice = new Qkd.Core.Symbols.SeededSymbolSource(5, new SymbolDistribution(0.5, [0.65, 0.25, 0.10]));
        var link = new EmulatedLink(Active, TransmitterLight.Default, alice, 3, new BasisChoiceSettings(BasisChoices.Seeded(0.5, 1), 2048));
        var options = new EmulatedTimeTaggerOptions { SyncDivider = 1024, EndPulse = 200_000, BasisMarkerChannel = 7, BasisMarkerDelayPs = 2_500 };
        var tagger = new EmulatedTimeTagger(link, options, 9);
        var tags = new TimeTag[4096];
        var truth = new TimeTagTruth[4096];
        var markers = new List<(TimeTag Tag, TimeTagTruth Truth)>();
        int n;
        while ((n = tagger.Read(tags, truth)) > 0)
            for (int i = 0; i < n; i++)
                if (tags[i].Channel == 7) markers.Add((tags[i], truth[i]));
        var (tag, origin) = Assert.Single(markers);
        Assert.Equal(TimeTagOrigin.BasisMarker, origin.Origin);
        Assert.Equal(2048, origin.PulseIndex);
        Assert.Equal(new BobClock(Active, TransmitterLight.Default.PulseRateHz).TimeAt(2048, 0) + 2_500, tag.TimePs);

        // A link that draws the settings itself cannot be tagged: Bob would not know the basis of a click.
        var drawn = new EmulatedLink(Active, TransmitterLight.Default, alice, 3);
        Assert.Contains("Bob's own basis settings", Assert.Throws<ArgumentException>(() => new EmulatedTimeTagger(drawn, options, 9)).Message);
    }
}
