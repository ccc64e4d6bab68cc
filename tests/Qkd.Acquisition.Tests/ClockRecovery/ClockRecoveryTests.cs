using Qkd.Core;
using Qkd.Core.Random;
using Qkd.Core.TimeTags;
using Qkd.Emulation;
using Qkd.Emulation.TimeTagging;

namespace Qkd.Acquisition.Tests;

/// <summary>
/// Clock recovery on emulated tag streams: pulse assignment against the emulator's truth under drift and jitter, the
/// gate, missing and spurious sync tags, per-channel delays, batching, overflow and bad configuration.
/// </summary>
public sealed class ClockRecoveryTests
{
    private static LinkProfile Link(double driftPpm, double jitterPs = 100) => LinkProfile.Default.WithDistance(5) with
    {
        ClockDriftPpm = driftPpm,
        TimingJitterRmsPs = jitterPs,
        ClockOffsetPs = 123_456_789,
    };

    private static EmulatedTimeTaggerOptions Wiring(int divider, double syncJitterPs = 100, long pulses = 10_000_000) => new()
    {
        SyncChannel = 0,
        FirstDetectorChannel = 4,
        SyncDivider = divider,
        SyncDelayPs = 3_000,
        SyncJitterRmsPs = syncJitterPs,
        DetectorDelaysPs = [0, 1_500, 3_700, 12_345],
        EndPulse = pulses,
    };

    public static TheoryData<double, int> DriftsAndDividers() => new()
    {
        { -50, 1024 }, { 0, 1024 }, { 50, 1024 }, { 50, 65536 }, { -50, 65536 }, { 17, 100 },
    };

    [Theory]
    [MemberData(nameof(DriftsAndDividers))]
    public void Assigns_at_least_99_99_percent_of_signal_tags_to_their_true_pulse_with_drift_and_100_ps_jitter(double driftPpm, int divider)
    {
        var stream = EmulatedTagStream.Generate(Link(driftPpm), Wiring(divider));
        ClockRecoveryOptions options = stream.MatchingOptions();
        var recovery = new ClockRecovery(options);
        DetectorClick[] clicks = EmulatedTagStream.Recover(recovery, stream.Tags);

        // Tags that arrive before the lock sync are dropped by design (counted); with a divider of 65536 at 5 km that
        // is the first ~2% of this short run. Every tag from the lock on is scored.
        long lockTime = stream.LockTimePs(options.SyncsToLock);
        long beforeLock = stream.Tags.Where((t, i) => stream.Truth[i].Origin == TimeTagOrigin.Detection && t.TimePs < lockTime).LongCount();
        Assert.Equal(beforeLock, recovery.Counters.BeforeLock);
        (long expected, long correct, long wrong) = stream.Score(clicks, lockTime);

        Assert.True(expected > 300_000, $"only {expected} signal tags");
        Assert.True(correct >= 0.9999 * expected, $"{correct} of {expected} tags at their true pulse ({wrong} wrong); counters {Describe(recovery)}");
        Assert.True(wrong <= expected - correct, "more wrong bits than missed tags");

        // Drift: the fit's slope noise is about sigma_sync sqrt(12) / (N T L^1.5) over a memory of L syncs.
        double slopeNoisePpm = 100 * Math.Sqrt(12) / (divider * stream.Light.PulsePeriodPs * Math.Pow(options.SyncFilterLength, 1.5)) * 1e6;
        Assert.Equal(driftPpm, recovery.DriftEstimatePpm, 5 * slopeNoisePpm);
        ClockRecoveryCounters counters = recovery.Counters;
        Assert.Equal(0, counters.SyncAnomalies);
        Assert.Equal(0, counters.MissingSyncs);
        Assert.Equal(0, counters.OutOfOrder);
        Assert.Equal(0, counters.LateTags);
        Assert.Equal(counters.Tags, counters.SyncTags + counters.AssignedTags + counters.OutOfGate + counters.BeforeLock);
    }

    [Fact]
    public void Gate_rejects_free_running_dark_counts_in_proportion_to_the_part_of_the_period_it_leaves_out()
    {
        const double gatePs = 300;
        EmulatedTimeTaggerOptions wiring = Wiring(1024) with { DarkCountRateHz = 5e6 };
        var stream = EmulatedTagStream.Generate(Link(30, jitterPs: 20), wiring);
        // Only the sync and the free-running dark counts: the gate sees uniformly distributed tags.
        TimeTag[] darkOnly = stream.Tags.Where((_, i) => stream.Truth[i].Origin != TimeTagOrigin.Detection).ToArray();
        var recovery = new ClockRecovery(stream.MatchingOptions(gatePs) with { GateCentreOffsetPs = 150 });
        EmulatedTagStream.Recover(recovery, darkOnly);
        ClockRecoveryCounters counters = recovery.Counters;
        long judged = counters.AssignedTags + counters.OutOfGate;
        Assert.True(judged > 100_000, $"only {judged} dark counts reached the gate");
        double expectedFraction = gatePs / stream.Light.PulsePeriodPs;
        double sd = Math.Sqrt(expectedFraction * (1 - expectedFraction) / judged);
        double measured = (double)counters.AssignedTags / judged;
        Assert.True(Math.Abs(measured - expectedFraction) <= 4 * sd, $"accepted {measured:F5}, expected {expectedFraction} +- 4 x {sd:G3}");
        long perDetector = 0;
        for (int d = 0; d < 4; d++)
        {
            Assert.True(recovery.OutOfGate(d) > 0);
            perDetector += recovery.OutOfGate(d);
        }
        Assert.Equal(counters.OutOfGate, perDetector);

        // The same gate keeps practically every signal tag (20 ps jitter, gate centred on the light).
        var signal = new ClockRecovery(stream.MatchingOptions(gatePs));
        (long expected, long correct, _) = stream.Score(EmulatedTagStream.Recover(signal, stream.Tags.Where((_, i) => stream.Truth[i].Origin != TimeTagOrigin.FreeRunningDarkCount).ToArray()));
        Assert.True(correct >= 0.9999 * expected, $"{correct} of {expected}");

        // Moved off the light by more than half its width plus 10 sigma, the gate keeps no signal tag.
        var offLight = new ClockRecovery(stream.MatchingOptions(gatePs) with { GateCentreOffsetPs = 400 });
        (_, long kept, _) = stream.Score(EmulatedTagStream.Recover(offLight, stream.Tags.Where((_, i) => stream.Truth[i].Origin == TimeTagOrigin.Detection || stream.Truth[i].Origin == TimeTagOrigin.Sync).ToArray()));
        Assert.Equal(0, kept);
    }

    [Fact]
    public void Missing_sync_tags_are_bridged_and_counted()
    {
        var stream = EmulatedTagStream.Generate(Link(-40), Wiring(1024));
        var random = new Xoshiro256StarStar(8);
        long dropped = 0, syncSeen = 0;
        var thinned = new List<TimeTag>(stream.Tags.Length);
        for (int i = 0; i < stream.Tags.Length; i++)
        {
            if (stream.Truth[i].Origin == TimeTagOrigin.Sync)
            {
                // Keep the first (it anchors pulse 0); lose 30% at random and a run of 200 in a row.
                long k = syncSeen++;
                bool inRun = k is >= 5_000 and < 5_200;
                if (k > 0 && (inRun || random.NextDouble() < 0.3))
                {
                    dropped++;
                    continue;
                }
            }
            thinned.Add(stream.Tags[i]);
        }
        var recovery = new ClockRecovery(stream.MatchingOptions());
        (long expected, long correct, _) = stream.Score(EmulatedTagStream.Recover(recovery, thinned.ToArray()));
        Assert.True(correct >= 0.9999 * expected, $"{correct} of {expected}; counters {Describe(recovery)}");
        // The sync tags lost after the last one received are not known to be missing yet.
        long trailing = 0;
        for (int i = stream.Tags.Length - 1; i >= 0 && !thinned[^1].Equals(stream.Tags[i]); i--)
            if (stream.Truth[i].Origin == TimeTagOrigin.Sync) trailing++;
        Assert.Equal(dropped - trailing, recovery.Counters.MissingSyncs);
        Assert.Equal(0, recovery.Counters.SyncAnomalies);
    }

    [Fact]
    public void Spurious_sync_tags_are_rejected_as_anomalies_without_disturbing_assignment()
    {
        var stream = EmulatedTagStream.Generate(Link(25), Wiring(1024));
        var random = new Xoshiro256StarStar(9);
        var noisy = new List<TimeTag>(stream.Tags.Length + 1000);
        long injected = 0;
        for (int i = 0; i < stream.Tags.Length; i++)
        {
            noisy.Add(stream.Tags[i]);
            // A glitch on the sync input a third of an interval after some sync tags.
            if (stream.Truth[i].Origin == TimeTagOrigin.Sync && stream.Truth[i].PulseIndex > 10 * 1024 && random.NextDouble() < 0.05)
            {
                long glitch = stream.Tags[i].TimePs + 340_000;
                int j = i + 1;
                while (j < stream.Tags.Length && stream.Tags[j].TimePs <= glitch) noisy.Add(stream.Tags[j++]);
                noisy.Add(new TimeTag(glitch, 0));
                injected++;
                i = j - 1;
            }
        }
        var recovery = new ClockRecovery(stream.MatchingOptions());
        (long expected, long correct, _) = stream.Score(EmulatedTagStream.Recover(recovery, noisy.ToArray()));
        Assert.True(injected > 100);
        Assert.Equal(injected, recovery.Counters.SyncAnomalies);
        Assert.Equal(0, recovery.Counters.Relocks);
        Assert.True(correct >= 0.9999 * expected, $"{correct} of {expected}");
    }

    [Fact]
    public void Per_channel_delays_are_compensated_and_multi_clicks_merged_across_them()
    {
        var stream = EmulatedTagStream.Generate(Link(10, jitterPs: 50) with { DarkCountProbabilityPerPulse = 2e-3 }, Wiring(1024, pulses: 5_000_000));
        var recovery = new ClockRecovery(stream.MatchingOptions());
        DetectorClick[] clicks = EmulatedTagStream.Recover(recovery, stream.Tags);
        (long expected, long correct, long wrong) = stream.Score(clicks);
        Assert.True(correct >= 0.9999 * expected, $"{correct} of {expected}");
        Assert.True(recovery.Counters.MergedTags > 1_000, $"only {recovery.Counters.MergedTags} merged tags");
        Assert.Equal(0, recovery.Counters.LateTags);
        Assert.True(wrong <= expected - correct);

        // Uncalibrated (all delays taken as zero), the delayed detectors land in the wrong slots.
        var uncalibrated = new ClockRecovery(stream.MatchingOptions() with { DetectorDelaysPs = null });
        (_, long correctWithoutDelays, _) = stream.Score(EmulatedTagStream.Recover(uncalibrated, stream.Tags));
        Assert.True(correctWithoutDelays < 0.5 * expected, $"{correctWithoutDelays} of {expected} right without delays");
    }

    [Fact]
    public void The_clicks_do_not_depend_on_how_the_stream_is_cut_into_batches()
    {
        var stream = EmulatedTagStream.Generate(Link(-20) with { DarkCountProbabilityPerPulse = 2e-3 }, Wiring(1024, pulses: 1_000_000));
        DetectorClick[] reference = EmulatedTagStream.Recover(new ClockRecovery(stream.MatchingOptions()), stream.Tags, batch: 65536);
        foreach (int batch in (int[])[1, 7, 333])
            Assert.Equal(reference, EmulatedTagStream.Recover(new ClockRecovery(stream.MatchingOptions()), stream.Tags, batch));
    }

    [Fact]
    public void Overflows_falling_edges_unknown_channels_and_disorder_are_counted_and_skipped()
    {
        var stream = EmulatedTagStream.Generate(Link(5), Wiring(1024, pulses: 2_000_000));
        // An overflow in the middle: everything between its begin and end is lost, 12345 events reported missing.
        int from = stream.Tags.Length / 2, to = from + 5_000;
        var tags = new List<TimeTag>(stream.Tags[..from])
        {
            new(stream.Tags[from].TimePs, 0, TimeTagKind.OverflowBegin),
            new(stream.Tags[to].TimePs, 0, TimeTagKind.OverflowEnd, 12_345),
            new(stream.Tags[to].TimePs, 4, TimeTagKind.Falling),
            new(stream.Tags[to].TimePs, 99),
            new(stream.Tags[to].TimePs, 3),
        };
        tags.AddRange(stream.Tags[to..]);
        tags.Add(new TimeTag(stream.Tags[^1].TimePs - 1, 4)); // goes back in time
        var recovery = new ClockRecovery(stream.MatchingOptions());
        DetectorClick[] clicks = EmulatedTagStream.Recover(recovery, tags.ToArray());

        ClockRecoveryCounters counters = recovery.Counters;
        Assert.Equal(1, counters.Overflows);
        Assert.Equal(12_345, counters.OverflowMissedEvents);
        Assert.Equal(1, counters.FallingEdges);
        Assert.Equal(2, counters.UnknownChannel);
        Assert.Equal(1, counters.OutOfOrder);
        Assert.True(counters.MissingSyncs > 0);
        Assert.Equal(0, counters.SyncAnomalies);

        // Every detector tag that was not lost in the overflow is still at its pulse.
        var kept = new HashSet<int>(Enumerable.Range(0, from).Concat(Enumerable.Range(to, stream.Tags.Length - to)));
        long expected = 0;
        var truth = new Dictionary<long, byte>();
        foreach (int i in kept)
            if (stream.Truth[i].Origin == TimeTagOrigin.Detection)
            {
                expected++;
                truth.TryGetValue(stream.Truth[i].PulseIndex, out byte mask);
                truth[stream.Truth[i].PulseIndex] = (byte)(mask | 1 << (stream.Tags[i].Channel - 4));
            }
        long correct = clicks.Sum(c => truth.TryGetValue(c.PulseIndex, out byte m) ? System.Numerics.BitOperations.PopCount((uint)(m & c.ChannelMask)) : 0);
        Assert.True(correct >= 0.9999 * expected, $"{correct} of {expected}");
    }

    [Fact]
    public void Tags_before_lock_are_counted_and_the_first_sync_anchors_pulse_zero()
    {
        var recovery = new ClockRecovery(new ClockRecoveryOptions { SyncDivider = 10, DetectorChannels = [1], PathDelayPs = 0, GateWidthPs = 1000 });
        var clicks = new DetectorClick[64];
        // Exactly 1 GHz, offset 7 us: sync at pulses 0, 10, 20, 30 (lock after the 4th), clicks at pulse 25 and 31.
        const long t0 = 7_000_000;
        TimeTag[] tags =
        [
            new(t0 - 5, 1), new(t0, 0), new(t0 + 10_000, 0), new(t0 + 20_000, 0), new(t0 + 25_000, 1),
            new(t0 + 30_000, 0), new(t0 + 31_020, 1), new(t0 + 45_400, 1),
        ];
        int n = recovery.Process(tags, clicks);
        n += recovery.Flush(clicks.AsSpan(n));
        Assert.True(recovery.IsLocked);
        Assert.Equal(30, recovery.LastSyncPulse);
        Assert.Equal(2, recovery.Counters.BeforeLock);
        Assert.Equal([new DetectorClick(31, t0 + 31_020, 1, Basis.Z), new DetectorClick(45, t0 + 45_400, 1, Basis.Z)], clicks[..n]);
    }

    [Fact]
    public void Bad_options_and_short_destinations_are_rejected_naming_the_problem()
    {
        var good = new ClockRecoveryOptions();
        (ClockRecoveryOptions Options, string Parameter, string Text)[] bad =
        [
            (good with { PulseRateHz = 0 }, nameof(ClockRecoveryOptions.PulseRateHz), "pulse rate"),
            (good with { SyncDivider = 0 }, nameof(ClockRecoveryOptions.SyncDivider), "divider"),
            (good with { DetectorChannels = [] }, nameof(ClockRecoveryOptions.DetectorChannels), "detector channels"),
            (good with { DetectorChannels = [1, 2, 3, 4, 5, 6, 7, 8, 9] }, nameof(ClockRecoveryOptions.DetectorChannels), "detector channels"),
            (good with { DetectorChannels = [1, 0] }, nameof(ClockRecoveryOptions.DetectorChannels), "sync channel"),
            (good with { DetectorChannels = [1, 2, 1] }, nameof(ClockRecoveryOptions.DetectorChannels), "both on channel 1"),
            (good with { DetectorDelaysPs = [0, 0] }, nameof(ClockRecoveryOptions.DetectorDelaysPs), "2 detector delays"),
            (good with { DetectorDelaysPs = [0, 0, 0, long.MaxValue] }, nameof(ClockRecoveryOptions.DetectorDelaysPs), "detector delay"),
            (good with { PathDelayPs = double.NaN }, nameof(ClockRecoveryOptions.PathDelayPs), "path delay"),
            (good with { GateWidthPs = 0 }, nameof(ClockRecoveryOptions.GateWidthPs), "gate width"),
            (good with { GateWidthPs = 1001 }, nameof(ClockRecoveryOptions.GateWidthPs), "gate width"),
            (good with { GateCentreOffsetPs = 600 }, nameof(ClockRecoveryOptions.GateCentreOffsetPs), "half a period"),
            (good with { SyncFilterLength = 1 }, nameof(ClockRecoveryOptions.SyncFilterLength), "sync filter"),
            (good with { SyncsToLock = 1 }, nameof(ClockRecoveryOptions.SyncsToLock), "2 sync tags"),
            (good with { SyncTolerancePs = 600_000 }, nameof(ClockRecoveryOptions.SyncTolerancePs), "sync tolerance"),
        ];
        foreach ((ClockRecoveryOptions options, string parameter, string text) in bad)
        {
            var e = Assert.ThrowsAny<ArgumentException>(() => new ClockRecovery(options));
            Assert.Equal(parameter, e.ParamName);
            Assert.Contains(text, e.Message, StringComparison.OrdinalIgnoreCase);
        }
        Assert.Throws<ArgumentNullException>(() => new ClockRecovery(null!));

        var recovery = new ClockRecovery(good);
        Assert.Equal("clicks", Assert.Throws<ArgumentException>(() => recovery.Process(new TimeTag[10], new DetectorClick[9])).ParamName);
    }

    [Fact]
    public void The_tags_folded_by_the_arrival_phase_search_are_assigned_once_it_is_found_as_if_it_had_been_known()
    {
        // Frame synchronisation's pilot lies at the start of the emission: the first detections after lock are the very
        // ones the arrival phase search folds. They must come out as clicks at the pulses a known delay gives them, not
        // be lost (on a lossy link 4096 of them span more pulses than the pilot has).
        var stream = EmulatedTagStream.Generate(Link(20), Wiring(1024, pulses: 2_000_000));
        ClockRecoveryOptions told = stream.MatchingOptions();
        double period = stream.Light.PulsePeriodPs;
        // Whole pulses of the delay told, the phase within the period left to the search (as a node does with frame sync).
        ClockRecoveryOptions searching = told with { PathDelayPs = Math.Round(told.PathDelayPs / period) * period, ArrivalPhaseSearchTags = 4096 };
        var reference = new ClockRecovery(told);
        var search = new ClockRecovery(searching);
        DetectorClick[] expected = EmulatedTagStream.Recover(reference, stream.Tags, batch: 1000);
        DetectorClick[] found = EmulatedTagStream.Recover(search, stream.Tags, batch: 1000);

        Assert.False(search.IsSearchingArrivalPhase);
        Assert.Equal(4096, search.Counters.PhaseSearchTags);
        Assert.Equal(reference.Counters.AssignedTags, search.Counters.AssignedTags);
        Assert.Equal(expected.Select(c => (c.PulseIndex, c.ChannelMask)), found.Select(c => (c.PulseIndex, c.ChannelMask)));
        (long all, long correct, _) = stream.Score(found, stream.LockTimePs(told.SyncsToLock));
        Assert.True(correct >= 0.9999 * all, $"{correct} of {all} tags at their true pulse; counters {Describe(search)}");
    }

    private static string Describe(ClockRecovery recovery) =>
        string.Join(", ", recovery.Counters.ToDictionary().Where(p => p.Value != 0).Select(p => $"{p.Key}={p.Value}"));
}
