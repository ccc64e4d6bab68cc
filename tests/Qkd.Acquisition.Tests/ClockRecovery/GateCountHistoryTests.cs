using Qkd.Core;
using Qkd.Core.TimeTags;
using Qkd.Emulation;
using Qkd.Emulation.TimeTagging;

namespace Qkd.Acquisition.Tests;

/// <summary>
/// Clock recovery's gate counts at points of the pulse stream (<see cref="GateCountHistory"/>), which the link monitor
/// reads when a block finishes: the counts up to a pulse are the same however the stream was cut into batches and
/// however far clock recovery has run when they are read, where the live counters at that moment are not (issue 15: a
/// clean block's off-gate count that depended on how far the acquisition had raced ahead under load).
/// </summary>
public sealed class GateCountHistoryTests
{
    private static EmulatedTagStream Stream() => EmulatedTagStream.Generate(
        LinkProfile.Default.WithDistance(5) with { ClockDriftPpm = 20 },
        new EmulatedTimeTaggerOptions
        {
            SyncChannel = 0,
            FirstDetectorChannel = 4,
            SyncDivider = 1024,
            SyncDelayPs = 3_000,
            DetectorDelaysPs = [0, 1_500, 3_700, 12_345],
            EndPulse = 4_000_000,
            DarkCountRateHz = 2e6, // free-running: most fall outside a 300 ps gate
        });

    /// <summary>
    /// Feeds the stream in batches of <paramref name="batch"/>; as soon as a click at or after each target pulse has been
    /// handed out (what a finished block ending there means), reads both the history at the target and the live counters.
    /// </summary>
    private static (GateCounts?[] History, long[] LiveOutOfGate, GateCounts?[] AtEnd) Run(EmulatedTagStream stream, long[] targets, int batch)
    {
        var recovery = new ClockRecovery(stream.MatchingOptions(gateWidthPs: 300));
        var history = new GateCounts?[targets.Length];
        var live = new long[targets.Length];
        var clicks = new DetectorClick[batch + recovery.MaxHeldClicks];
        int next = 0;
        for (int start = 0; start < stream.Tags.Length && next < targets.Length; start += batch)
        {
            int n = recovery.Process(stream.Tags.AsSpan(start, Math.Min(batch, stream.Tags.Length - start)), clicks);
            long handedOut = n > 0 ? clicks[n - 1].PulseIndex : long.MinValue;
            for (; next < targets.Length && handedOut >= targets[next]; next++)
            {
                history[next] = recovery.GateHistory.At(targets[next]);
                live[next] = recovery.Counters.OutOfGate;
            }
        }
        Assert.Equal(targets.Length, next);
        return (history, live, targets.Select(recovery.GateHistory.At).ToArray());
    }

    [Fact]
    public void The_counts_up_to_a_pulse_do_not_depend_on_batching_or_on_when_they_are_read()
    {
        var stream = Stream();
        long[] targets = [400_000, 1_000_000, 1_700_000, 2_500_000, 3_300_000];
        var reference = Run(stream, targets, batch: 65_536);
        Assert.All(reference.History, h => Assert.NotNull(h));
        Assert.True(reference.History[^1]!.InGate.Sum() + reference.History[^1]!.OutOfGate.Sum() > 8 * ClockRecovery.CheckpointTags,
            "too few placed tags for several checkpoints");
        for (int i = 0; i < targets.Length; i++)
        {
            GateCounts h = reference.History[i]!;
            Assert.InRange(h.Pulse, i == 0 ? 0 : reference.History[i - 1]!.Pulse, targets[i]);
            Assert.True(h.OutOfGate.Sum() > 0, "the 300 ps gate leaves dark counts outside it");
            AssertSame(h, reference.AtEnd[i]!); // read now or after the whole stream: the same
        }

        var liveOutOfGate = new HashSet<long>();
        foreach (int batch in (int[])[1, 333, 4_096, 1 << 20])
        {
            var run = Run(stream, targets, batch);
            for (int i = 0; i < targets.Length; i++)
            {
                AssertSame(reference.History[i]!, run.History[i]!);
                AssertSame(reference.History[i]!, run.AtEnd[i]!);
            }
            liveOutOfGate.Add(run.LiveOutOfGate[^1]);
        }
        // What the monitor used to read, the live counter when the block was done, depends on how far clock recovery had run.
        Assert.True(liveOutOfGate.Count > 1, "the live off-gate counter happened to agree across batchings");
    }

    private static void AssertSame(GateCounts expected, GateCounts actual)
    {
        Assert.Equal(expected.Pulse, actual.Pulse);
        Assert.Equal(expected.InGate, actual.InGate);
        Assert.Equal(expected.OutOfGate, actual.OutOfGate);
        Assert.Equal(expected.OffsetSumPs, actual.OffsetSumPs);
        Assert.Equal(expected.OffsetSquaresPs2, actual.OffsetSquaresPs2);
    }

    [Fact]
    public void A_reader_that_fell_a_ring_behind_gets_null_and_is_counted_and_an_early_one_gets_zero_counts()
    {
        var history = new GateCountHistory(detectors: 2, capacity: 4, periodPs: 1000);
        Assert.Equal(0, history.At(50)!.Pulse);
        Assert.Equal([0L, 0L], history.At(50)!.InGate);
        for (int k = 1; k <= 6; k++)
            history.Record(100 * k, [k, 2L * k], [10L * k, 0], [0.5 * k, 0], [0.25 * k, 0]);
        Assert.Equal(6, history.Recorded);
        Assert.Null(history.At(250)); // checkpoints at 100 and 200 were overwritten by those at 500 and 600
        Assert.Equal(1, history.LateReads);
        GateCounts at = history.At(450)!;
        Assert.Equal(400, at.Pulse);
        Assert.Equal([4L, 8L], at.InGate);
        Assert.Equal([40L, 0L], at.OutOfGate);
        Assert.Equal(2000, at.OffsetSumPs[0]); // 0.5 x 4 periods of 1000 ps
        Assert.Equal(1_000_000, at.OffsetSquaresPs2[0]);
        Assert.Equal(600, history.At(long.MaxValue)!.Pulse);
        // Keys never go back: a checkpoint triggered by an earlier pulse (detector delays differ) takes its predecessor's.
        history.Record(550, [7, 14], [70, 0], [3.5, 0], [1.75, 0]);
        Assert.Equal([7L, 14L], history.At(600)!.InGate);
    }
}
