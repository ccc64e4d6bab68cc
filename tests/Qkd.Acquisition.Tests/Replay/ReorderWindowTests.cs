using CsCheck;
using Qkd.Acquisition.Replay;
using Qkd.Core.TimeTags;

namespace Qkd.Acquisition.Tests.Replay;

/// <summary>Properties of the reorder window: output in time order, nothing lost, the not-placed counter exact.</summary>
public sealed class ReorderWindowTests
{
    /// <summary>One step: add a tag at this time, or (time null) advance the horizon by the given amount and release.</summary>
    private static readonly Gen<(long? Time, long Advance)> Step =
        Gen.Frequency((4, Gen.Long[0, 1_000].Select(t => ((long?)t, 0L))), (1, Gen.Long[0, 300].Select(a => ((long?)null, a))));

    /// <summary>Runs the steps through the window (times relative to a horizon that only moves forward), then flushes.</summary>
    private static (List<TimeTag> Out, ReorderWindow Window, int Added) Run(int capacity, (long? Time, long Advance)[] steps, int batch)
    {
        var window = new ReorderWindow(capacity);
        var output = new List<TimeTag>();
        var buffer = new TimeTag[batch];
        long horizon = 0;
        int added = 0;
        ushort sequence = 0;
        void Drain(long upTo)
        {
            int n;
            do
            {
                n = 0;
                window.Release(upTo, buffer, ref n);
                output.AddRange(buffer.AsSpan(0, n));
            } while (n == buffer.Length);
        }
        foreach (var (time, advance) in steps)
        {
            if (time is long t)
            {
                if (window.IsFull && window.ReleaseEarliest(out var early)) output.Add(early);
                // Tags land anywhere from 200 ps before the horizon to 1 ns after it: some later than the window can mend.
                window.Add(new TimeTag(horizon - 200 + t, sequence++));
                added++;
            }
            else
            {
                horizon += advance;
                Drain(horizon);
            }
        }
        Drain(long.MaxValue);
        return (output, window, added);
    }

    /// <summary>The same rules on a plain list: what the heap must reproduce.</summary>
    private static (List<TimeTag> Out, long NotPlaced) Reference(int capacity, (long? Time, long Advance)[] steps)
    {
        var waiting = new List<TimeTag>();   // in arrival order
        var output = new List<TimeTag>();
        long horizon = 0, last = long.MinValue, notPlaced = 0;
        ushort sequence = 0;
        TimeTag TakeEarliest()
        {
            int best = 0;
            for (int i = 1; i < waiting.Count; i++) if (waiting[i].TimePs < waiting[best].TimePs) best = i;
            var tag = waiting[best];
            waiting.RemoveAt(best);
            last = tag.TimePs;
            return tag;
        }
        void Drain(long upTo)
        {
            while (waiting.Count > 0 && waiting.Min(t => t.TimePs) <= upTo) output.Add(TakeEarliest());
        }
        foreach (var (time, advance) in steps)
        {
            if (time is long t)
            {
                if (waiting.Count == capacity) output.Add(TakeEarliest());
                var tag = new TimeTag(horizon - 200 + t, sequence++);
                if (tag.TimePs < last) notPlaced++;
                else waiting.Add(tag);
            }
            else
            {
                horizon += advance;
                Drain(horizon);
            }
        }
        Drain(long.MaxValue);
        return (output, notPlaced);
    }

    [Fact]
    public void Output_is_time_ordered_nothing_is_lost_and_the_counter_matches_a_reference()
    {
        Gen.Select(Gen.Int[1, 40], Step.Array[0, 400], Gen.Int[1, 17]).Sample((capacity, steps, batch) =>
        {
            var (output, window, added) = Run(capacity, steps, batch);
            for (int i = 1; i < output.Count; i++) Assert.True(output[i].TimePs >= output[i - 1].TimePs);
            Assert.Equal(added, output.Count + window.NotPlaced);
            Assert.Equal(0, window.Count);
            var (expected, notPlaced) = Reference(capacity, steps);
            Assert.Equal(notPlaced, window.NotPlaced);
            // Equal times keep their arrival order (the channel field carries the arrival number here).
            Assert.Equal(expected, output);
        });
    }

    [Fact]
    public void Tags_that_keep_the_horizon_promise_are_all_placed()
    {
        // Every tag at or after the horizon when it arrives (what a T3 file guarantees): none is dropped, and with room
        // enough none is released early.
        Gen.Select(Gen.Long[0, 1_000].Select(t => ((long?)t + 200, 0L)).Array[0, 200], Gen.Long[0, 300].Array[0, 50]).Sample((adds, advances) =>
        {
            var steps = adds.Concat(advances.Select(a => ((long?)null, a))).ToArray();
            new Random(steps.Length).Shuffle(steps);
            var (output, window, added) = Run(1 << 10, steps, 8);
            Assert.Equal(0, window.NotPlaced);
            Assert.Equal(0, window.ForcedReleases);
            Assert.Equal(added, output.Count);
            for (int i = 1; i < output.Count; i++) Assert.True(output[i].TimePs >= output[i - 1].TimePs);
        });
    }
}
