using NSubstitute;
using Qkd.Core;
using Qkd.Core.Random;
using Qkd.Core.Symbols;
using Qkd.Emulation;
using Qkd.Emulation.TimeTagging;

namespace Qkd.Acquisition.Tests;

/// <summary>
/// An active receiver through the tag path: clock recovery places the basis marker as it places detector tags (under an
/// untold fibre delay found by the arrival phase search), so Bob's decoder reads the basis his modulator had for every
/// click, and the detections agree with Alice's symbols at the misalignment rate.
/// </summary>
public sealed class BasisMarkerTests
{
    [Theory]
    [InlineData(0L, 0L)]
    [InlineData(4096L, 3_300L)]
    public void Detections_take_bobs_basis_at_the_markers_offset_and_agree_with_alice(long patternStart, long markerDelayPs)
    {
        LinkProfile profile = LinkProfile.Default.WithDistance(7.3) with { ReceiverLayout = ReceiverLayout.ActiveTwoDetector, ClockOffsetPs = 777_777 };
        var alice = new SeededSymbolSource(21, new SymbolDistribution(0.5, [0.65, 0.25, 0.10]));
        var bases = BasisChoices.Seeded(0.5, 22);
        var link = new EmulatedLink(profile, TransmitterLight.Default, alice, 23, new BasisChoiceSettings(bases, patternStart));
        var wiring = new EmulatedTimeTaggerOptions
        {
            SyncChannel = 0, FirstDetectorChannel = 1, SyncDivider = 1024, SyncDelayPs = 2_000, DetectorDelaysPs = [500, 1_700],
            BasisMarkerChannel = 5, BasisMarkerDelayPs = markerDelayPs, EndPulse = 20_000_000,
        };
        var tagger = new EmulatedTimeTagger(link, wiring, 24);
        var clock = new ClockRecoveryOptions
        {
            PulseRateHz = 1e9, SyncDivider = 1024, SyncChannel = 0, DetectorChannels = [1, 2], DetectorDelaysPs = [500, 1_700], SyncDelayPs = 2_000,
            GateWidthPs = 400, ArrivalPhaseSearchTags = 4096, BasisMarkerChannel = 5, BasisMarkerDelayPs = markerDelayPs,
        };
        using var frontEnd = new TimeTagFrontEnd(tagger, clock, ReceiverLayout.ActiveTwoDetector, new Xoshiro256StarStar(1), bases: bases);
        frontEnd.Start();
        var detections = new Detection[1 << 16];
        long sifted = 0, errors = 0, total = 0;
        int n;
        while ((n = frontEnd.Read(detections, TestContext.Current.CancellationToken)) > 0)
        {
            long marker = frontEnd.Clock.BasisMarkerPulse!.Value;
            foreach (Detection d in detections.AsSpan(0, n))
            {
                total++;
                long index = d.PulseIndex - marker;
                Assert.Equal(bases.BasisAt(index), d.Basis);
                PulseSymbol sent = alice.SymbolAt(patternStart + index);
                if (sent.Basis != d.Basis || sent.Intensity != Intensity.Signal) continue;
                sifted++;
                if (sent.Bit != d.Bit) errors++;
            }
        }
        Assert.True(sifted > 20_000, $"{sifted} sifted of {total}");
        // The right offset gives the misalignment (1%) plus noise; one slot off would give 25-50%.
        Assert.InRange((double)errors / sifted, 0, 0.04);
        Assert.Equal(0, frontEnd.Clock.Counters.ExtraBasisMarkers);
    }

    [Fact]
    public void An_active_receiver_without_bases_or_marker_input_is_refused()
    {
        var source = Substitute.For<Qkd.Core.TimeTags.ITimeTagSource>();
        var clock = new ClockRecoveryOptions { DetectorChannels = [1, 2] };
        Assert.Contains("basisMarkerChannel", Assert.Throws<ArgumentException>(() =>
            new TimeTagFrontEnd(source, clock, ReceiverLayout.ActiveTwoDetector, new Xoshiro256StarStar(1), bases: BasisChoices.Seeded(0.5, 1))).Message);
        Assert.Throws<ArgumentException>(() =>
            new TimeTagFrontEnd(source, clock with { BasisMarkerChannel = 5 }, ReceiverLayout.ActiveTwoDetector, new Xoshiro256StarStar(1)));
        Assert.Throws<ArgumentException>(() => (clock with { BasisMarkerChannel = 2 }).Validate());
    }
}
