using System.Numerics;
using Qkd.Core;
using Qkd.Core.Random;
using Qkd.Core.Symbols;
using Qkd.Core.TimeTags;
using Qkd.Emulation.TimeTagging;

namespace Qkd.Emulation.Tests.TimeTagging;

/// <summary>The emulated tagger's stream: order, content against the link, the sync convention, noise and determinism.</summary>
public sealed class EmulatedTimeTaggerTests
{
    private static readonly LinkProfile Busy = LinkProfile.Default.WithDistance(5) with
    {
        ClockDriftPpm = 50,
        TimingJitterRmsPs = 100,
        DarkCountProbabilityPerPulse = 1e-5,
    };

    private static readonly EmulatedTimeTaggerOptions Wiring = new()
    {
        SyncChannel = 7,
        FirstDetectorChannel = 2,
        SyncDivider = 1000,
        SyncDelayPs = 2_500,
        SyncJitterRmsPs = 50,
        DetectorDelaysPs = [0, 1_500, 3_700, 12_345],
        EndPulse = 2_000_000,
    };

    private static EmulatedLink Link(LinkProfile profile, ulong seed = 5) =>
        new(profile, DefaultLink.Light, new SeededSymbolSource(11, DefaultLink.Alice), seed);

    private static (TimeTag[] Tags, TimeTagTruth[] Truth) ReadAll(EmulatedTimeTagger tagger, int batch = 4096)
    {
        var tags = new List<TimeTag>();
        var truth = new List<TimeTagTruth>();
        var tagBuffer = new TimeTag[batch];
        var truthBuffer = new TimeTagTruth[batch];
        int n;
        while ((n = tagger.Read(tagBuffer, truthBuffer, TestContext.Current.CancellationToken)) > 0)
        {
            tags.AddRange(tagBuffer.AsSpan(0, n));
            truth.AddRange(truthBuffer.AsSpan(0, n));
        }
        Assert.Equal(0, tagger.Read(tagBuffer, truthBuffer, TestContext.Current.CancellationToken));
        return (tags.ToArray(), truth.ToArray());
    }

    [Fact]
    public void Detector_tags_are_the_links_firings_with_cable_delays_in_time_order()
    {
        var tagger = new EmulatedTimeTagger(Link(Busy), Wiring, 9);
        (TimeTag[] tags, TimeTagTruth[] truth) = ReadAll(tagger);

        for (int i = 1; i < tags.Length; i++)
            Assert.True(tags[i].TimePs >= tags[i - 1].TimePs, $"tag {i} goes back in time");
        Assert.Equal(0, tagger.OrderClamps);

        // Reference: the same link's clicks expanded by hand into (time, channel, pulse) firings.
        var reference = new List<(long Time, ushort Channel, long Pulse)>();
        EmulatedLink link = Link(Busy);
        var clicks = new DetectorClick[4096];
        int n;
        while ((n = link.Emit(clicks, Wiring.EndPulse)) > 0)
            foreach (DetectorClick click in clicks.AsSpan(0, n))
                for (int d = 0; d < 4; d++)
                    if ((click.ChannelMask & (1 << d)) != 0)
                        reference.Add((click.TimePs + Wiring.DetectorDelaysPs![d], (ushort)(Wiring.FirstDetectorChannel + d), click.PulseIndex));
        var emitted = new List<(long Time, ushort Channel, long Pulse)>();
        for (int i = 0; i < tags.Length; i++)
        {
            Assert.Equal(TimeTagKind.Rising, tags[i].Kind);
            if (truth[i].Origin != TimeTagOrigin.Detection) continue;
            emitted.Add((tags[i].TimePs, tags[i].Channel, truth[i].PulseIndex));
        }
        Assert.True(reference.Count > 50_000, $"only {reference.Count} firings");
        Assert.Equal(reference.Order().ToArray(), emitted.Order().ToArray());
        Assert.Equal(link.Counters.DetectorFirings, tagger.DetectionTags);
    }

    [Fact]
    public void The_kth_sync_tag_marks_pulse_k_times_the_divider_on_Bobs_drifting_clock()
    {
        var tagger = new EmulatedTimeTagger(Link(Busy), Wiring, 9);
        (TimeTag[] tags, TimeTagTruth[] truth) = ReadAll(tagger);
        var sync = Enumerable.Range(0, tags.Length).Where(i => tags[i].Channel == Wiring.SyncChannel).ToArray();
        Assert.Equal(Wiring.EndPulse / Wiring.SyncDivider, sync.Length);
        Assert.Equal(sync.Length, tagger.SyncTags);
        for (int k = 0; k < sync.Length; k++)
        {
            Assert.Equal(TimeTagOrigin.Sync, truth[sync[k]].Origin);
            Assert.Equal((long)k * Wiring.SyncDivider, truth[sync[k]].PulseIndex);
        }

        // Residuals against the exact line t = offset + delay + pulse * period * (1 + drift): mean ~0, RMS = sync jitter.
        double period = DefaultLink.Light.PulsePeriodPs * (1 + Busy.ClockDriftPpm * 1e-6);
        double sum = 0, sumSquares = 0;
        foreach (int i in sync)
        {
            double residual = tags[i].TimePs - (Busy.ClockOffsetPs + Wiring.SyncDelayPs + truth[i].PulseIndex * period);
            sum += residual;
            sumSquares += residual * residual;
        }
        double mean = sum / sync.Length, rms = Math.Sqrt(sumSquares / sync.Length - mean * mean);
        Assert.InRange(mean, -4 * 50 / Math.Sqrt(sync.Length) - 0.5, 4 * 50 / Math.Sqrt(sync.Length) + 0.5);
        Assert.InRange(rms, 50 * 0.9, 50 * 1.1);
    }

    [Fact]
    public void Same_seed_gives_the_same_stream_whatever_the_read_sizes()
    {
        (TimeTag[] reference, _) = ReadAll(new EmulatedTimeTagger(Link(Busy), Wiring, 9));
        var tagger = new EmulatedTimeTagger(Link(Busy), Wiring, 9);
        var chunks = new Xoshiro256StarStar(3);
        var buffer = new TimeTag[300];
        var collected = new List<TimeTag>();
        int n;
        while ((n = tagger.Read(buffer.AsSpan(0, 1 + (int)(chunks.NextUInt64() % 300)), TestContext.Current.CancellationToken)) > 0)
            collected.AddRange(buffer.AsSpan(0, n));
        Assert.Equal(reference, collected.ToArray());

        (TimeTag[] otherSeed, _) = ReadAll(new EmulatedTimeTagger(Link(Busy), Wiring, 10));
        Assert.NotEqual(reference, otherSeed);
    }

    [Fact]
    public void Free_running_dark_counts_have_the_configured_rate_spread_over_the_detectors()
    {
        const double rateHz = 5e6;
        EmulatedTimeTaggerOptions options = Wiring with { DarkCountRateHz = rateHz, EndPulse = 10_000_000 };
        var tagger = new EmulatedTimeTagger(Link(Busy), options, 9);
        (TimeTag[] tags, TimeTagTruth[] truth) = ReadAll(tagger);
        var perChannel = new long[4];
        for (int i = 0; i < tags.Length; i++)
            if (truth[i].Origin == TimeTagOrigin.FreeRunningDarkCount)
            {
                Assert.Equal(-1, truth[i].PulseIndex);
                perChannel[tags[i].Channel - options.FirstDetectorChannel]++;
            }
        double seconds = options.EndPulse * DefaultLink.Light.PulsePeriodPs * (1 + Busy.ClockDriftPpm * 1e-6) / Units.PicosecondsPerSecond;
        double expectedPerChannel = rateHz * seconds;
        long total = perChannel.Sum();
        Assert.Equal(total, tagger.FreeRunningDarkCountTags);
        Assert.InRange(total, 4 * expectedPerChannel - 5 * Math.Sqrt(4 * expectedPerChannel), 4 * expectedPerChannel + 5 * Math.Sqrt(4 * expectedPerChannel));
        foreach (long count in perChannel)
            Assert.InRange(count, expectedPerChannel - 5 * Math.Sqrt(expectedPerChannel), expectedPerChannel + 5 * Math.Sqrt(expectedPerChannel));
    }

    [Fact]
    public void Plain_read_gives_the_same_tags_as_the_read_with_truth()
    {
        (TimeTag[] withTruth, _) = ReadAll(new EmulatedTimeTagger(Link(Busy), Wiring with { DarkCountRateHz = 1e6 }, 4));
        var tagger = new EmulatedTimeTagger(Link(Busy), Wiring with { DarkCountRateHz = 1e6 }, 4);
        ITimeTagSource source = tagger;
        var buffer = new TimeTag[1000];
        var plain = new List<TimeTag>();
        int n;
        while ((n = source.Read(buffer, TestContext.Current.CancellationToken)) > 0)
            plain.AddRange(buffer.AsSpan(0, n));
        Assert.Equal(withTruth, plain.ToArray());
        Assert.Equal(plain.Count, tagger.TagsEmitted);
        Assert.Equal("emulated tagger", source.Name);
    }

    [Fact]
    public void A_run_that_ends_at_pulse_zero_is_empty_and_a_link_without_clicks_still_carries_sync()
    {
        Assert.Equal(0, new EmulatedTimeTagger(Link(Busy), Wiring with { EndPulse = 0 }, 1).Read(new TimeTag[16], TestContext.Current.CancellationToken));

        // 1000 dB of fibre and no detector noise: no clicks, only Alice's sync.
        LinkProfile dark = Busy with { FibreLossDbPerKm = 200, DarkCountProbabilityPerPulse = 0, AfterpulseProbability = 0 };
        (TimeTag[] tags, TimeTagTruth[] truth) = ReadAll(new EmulatedTimeTagger(Link(dark), Wiring with { EndPulse = 100_000 }, 1));
        Assert.Equal(100, tags.Length);
        Assert.All(truth, t => Assert.Equal(TimeTagOrigin.Sync, t.Origin));
    }

    [Fact]
    public void Unsupported_receivers_used_links_and_bad_options_are_rejected_with_the_reason()
    {
        EmulatedLink active = Link(Busy with { ReceiverLayout = ReceiverLayout.ActiveTwoDetector });
        var e = Assert.Throws<ArgumentException>(() => new EmulatedTimeTagger(active, Wiring, 1));
        Assert.Contains("ActiveTwoDetector", e.Message);
        Assert.Equal("link", e.ParamName);

        EmulatedLink used = Link(Busy);
        used.Emit(new DetectorClick[10], 1_000_000);
        Assert.Equal("link", Assert.Throws<ArgumentException>(() => new EmulatedTimeTagger(used, Wiring, 1)).ParamName);

        (EmulatedTimeTaggerOptions Options, string Parameter)[] bad =
        [
            (Wiring with { SyncDivider = 0 }, nameof(EmulatedTimeTaggerOptions.SyncDivider)),
            (Wiring with { SyncChannel = 3 }, nameof(EmulatedTimeTaggerOptions.SyncChannel)),
            (Wiring with { FirstDetectorChannel = 65534 }, nameof(EmulatedTimeTaggerOptions.FirstDetectorChannel)),
            (Wiring with { SyncDelayPs = -1 }, nameof(EmulatedTimeTaggerOptions.SyncDelayPs)),
            (Wiring with { SyncJitterRmsPs = double.NaN }, nameof(EmulatedTimeTaggerOptions.SyncJitterRmsPs)),
            (Wiring with { SyncJitterRmsPs = 1e6 }, nameof(EmulatedTimeTaggerOptions.SyncJitterRmsPs)),
            (Wiring with { DetectorDelaysPs = [0, 0] }, nameof(EmulatedTimeTaggerOptions.DetectorDelaysPs)),
            (Wiring with { DetectorDelaysPs = [0, 0, -5, 0] }, nameof(EmulatedTimeTaggerOptions.DetectorDelaysPs)),
            (Wiring with { DarkCountRateHz = -1 }, nameof(EmulatedTimeTaggerOptions.DarkCountRateHz)),
            (Wiring with { EndPulse = -1 }, nameof(EmulatedTimeTaggerOptions.EndPulse)),
        ];
        foreach ((EmulatedTimeTaggerOptions options, string parameter) in bad)
        {
            var error = Assert.ThrowsAny<ArgumentException>(() => new EmulatedTimeTagger(Link(Busy), options, 1));
            Assert.Equal(parameter, error.ParamName);
        }

        var tagger = new EmulatedTimeTagger(Link(Busy), Wiring, 1);
        Assert.Equal("truth", Assert.Throws<ArgumentException>(() => tagger.Read(new TimeTag[10], new TimeTagTruth[9], TestContext.Current.CancellationToken)).ParamName);
    }
}
