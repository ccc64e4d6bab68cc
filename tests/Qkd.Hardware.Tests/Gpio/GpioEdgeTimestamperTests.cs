using System.Device.Gpio;
using CsCheck;
using Qkd.Core.Rings;
using Qkd.Core.TimeTags;
using Qkd.Hardware.Gpio;

namespace Qkd.Hardware.Tests.Gpio;

public sealed class GpioEdgeTimestamperTests
{
    private static readonly TimestampedLine[] Lines =
    [
        new(Pin: 3, Channel: 40),
        new(Pin: 4, Channel: 41, Edges: PinEventTypes.Rising),
        new(Pin: 9, Channel: 42, Edges: PinEventTypes.Falling, Mode: PinMode.InputPullUp),
    ];

    private static List<TimeTag> Drain(MpscRing<TimeTag> ring)
    {
        var tags = new List<TimeTag>();
        while (ring.TryRead(out var tag)) tags.Add(tag);
        return tags;
    }

    [Fact]
    public void Edges_reach_the_ring_in_order_with_their_kind_channel_and_host_time()
    {
        using var rig = new GpioTestRig();
        var ring = new MpscRing<TimeTag>(64, OverflowPolicy.DropNewest);
        using var stamper = new GpioEdgeTimestamper(rig.Controller, ring, Lines, rig.Clock);
        stamper.Start();

        var expected = new List<TimeTag>();
        rig.Clock.Advance(100);
        rig.Driver.Drive(3, PinValue.High);
        expected.Add(new TimeTag(rig.NowPs, 40, TimeTagKind.Rising));
        rig.Clock.Advance(250);
        rig.Driver.Drive(4, PinValue.High);
        expected.Add(new TimeTag(rig.NowPs, 41, TimeTagKind.Rising));
        rig.Clock.Advance(1);
        rig.Driver.Drive(4, PinValue.Low); // falling edge: line 4 reports rising only
        rig.Driver.Drive(9, PinValue.Low); // pulled-up line pulled down: falling
        expected.Add(new TimeTag(rig.NowPs, 42, TimeTagKind.Falling));
        rig.Clock.Advance(7);
        rig.Driver.Drive(3, PinValue.Low);
        expected.Add(new TimeTag(rig.NowPs, 40, TimeTagKind.Falling));
        rig.Driver.Release(9); // back to the pull-up: rising, not reported on line 9

        Assert.Equal(expected, Drain(ring));
        Assert.Equal(4, stamper.EdgesSeen);
        Assert.Equal(4, stamper.EdgesWritten);
        Assert.Equal(0, stamper.EdgesDropped);
    }

    [Fact]
    public void Drops_are_counted_exactly_when_the_ring_is_full()
    {
        using var rig = new GpioTestRig();
        var ring = new MpscRing<TimeTag>(8, OverflowPolicy.DropNewest);
        using var stamper = new GpioEdgeTimestamper(rig.Controller, ring, [new TimestampedLine(3, 7)], rig.Clock);
        stamper.Start();

        for (int i = 0; i < 13; i++)
        {
            rig.Clock.Advance(10);
            rig.Driver.Drive(3, i % 2 == 0 ? PinValue.High : PinValue.Low);
        }
        Assert.Equal(13, stamper.EdgesSeen);
        Assert.Equal(8, stamper.EdgesWritten);
        Assert.Equal(5, stamper.EdgesDropped);
        Assert.Equal(5, ring.Dropped);

        var kept = Drain(ring); // the oldest eight survive: DropNewest
        Assert.Equal(8, kept.Count);
        Assert.Equal(Enumerable.Range(0, 8).Select(i => i % 2 == 0 ? TimeTagKind.Rising : TimeTagKind.Falling), kept.Select(t => t.Kind));

        rig.Driver.Drive(3, PinValue.Low); // room again (the 13th edge left the line High)
        Assert.Equal(9, stamper.EdgesWritten);
        Assert.Single(Drain(ring));
    }

    [Fact]
    public void Property_seen_equals_written_plus_dropped_and_the_ring_holds_the_written_edges_in_order()
    {
        Gen.Select(Gen.Int[1, 6], Gen.Bool.Array[0, 80], Gen.Int[0, 3].Array[0, 80]).Sample((log2Capacity, levels, readsBetween) =>
        {
            using var rig = new GpioTestRig();
            var ring = new MpscRing<TimeTag>(1 << log2Capacity, OverflowPolicy.DropNewest);
            using var stamper = new GpioEdgeTimestamper(rig.Controller, ring, [new TimestampedLine(3, 1)], rig.Clock);
            stamper.Start();
            var model = new List<TimeTag>(); // what a consumer must see: every edge accepted while there was room
            var read = new List<TimeTag>();
            bool level = false;
            for (int i = 0; i < levels.Length; i++)
            {
                rig.Clock.Advance(3);
                if (levels[i] != level)
                {
                    level = levels[i];
                    var tag = new TimeTag(rig.NowPs, 1, level ? TimeTagKind.Rising : TimeTagKind.Falling);
                    if (ring.Fill < ring.Capacity) model.Add(tag);
                    rig.Driver.Drive(3, level);
                }
                for (int r = 0; r < (i < readsBetween.Length ? readsBetween[i] : 0) && ring.TryRead(out var t); r++) read.Add(t);
            }
            read.AddRange(Drain(ring));
            Assert.Equal(model, read);
            Assert.Equal(stamper.EdgesSeen, stamper.EdgesWritten + stamper.EdgesDropped);
            Assert.Equal(stamper.EdgesDropped, ring.Dropped);
        }, iter: 200, seed: "0N0XIzNsQ0O2");
    }

    [Fact]
    public void The_per_edge_path_allocates_nothing()
    {
        using var rig = new GpioTestRig();
        var ring = new MpscRing<TimeTag>(1024, OverflowPolicy.DropNewest);
        using var stamper = new GpioEdgeTimestamper(rig.Controller, ring, Lines, rig.Clock);
        stamper.OnEdge(3, PinEventTypes.Rising); // warm up (JIT, tiering)
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 2_000; i++) stamper.OnEdge(i % 2 == 0 ? 3 : 9, PinEventTypes.Falling); // fills the ring, then drops
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(2_001, stamper.EdgesSeen);
        Assert.Equal(2_001 - 1_024, stamper.EdgesDropped);
    }

    [Fact]
    public void A_back_pressure_ring_is_refused_because_the_callback_thread_must_not_wait()
    {
        using var rig = new GpioTestRig();
        var ex = Assert.Throws<ArgumentException>(() => new GpioEdgeTimestamper(rig.Controller, new MpscRing<TimeTag>(8), Lines));
        Assert.Contains("DropNewest", ex.Message);
    }

    [Fact]
    public void Stop_unregisters_and_closes_only_the_lines_it_opened()
    {
        using var rig = new GpioTestRig();
        rig.Controller.OpenPin(3, PinMode.Input); // e.g. shared with the interlock role
        var ring = new MpscRing<TimeTag>(8, OverflowPolicy.DropNewest);
        using var stamper = new GpioEdgeTimestamper(rig.Controller, ring, Lines, rig.Clock);
        stamper.Start();
        Assert.True(stamper.IsRunning);
        stamper.Stop();
        Assert.True(rig.Controller.IsPinOpen(3));
        Assert.False(rig.Controller.IsPinOpen(4));
        Assert.Equal(0, rig.Driver.CallbackCount(3));
        rig.Driver.Drive(3, PinValue.High);
        Assert.Equal(0, stamper.EdgesSeen);
    }

    [Fact]
    public void Edges_after_the_ring_was_completed_are_counted_as_dropped_not_thrown_into_the_driver()
    {
        using var rig = new GpioTestRig();
        var ring = new MpscRing<TimeTag>(8, OverflowPolicy.DropNewest);
        using var stamper = new GpioEdgeTimestamper(rig.Controller, ring, Lines, rig.Clock);
        stamper.Start();
        ring.Complete();
        rig.Driver.Drive(3, PinValue.High);
        Assert.Equal(1, stamper.EdgesDropped);
    }
}
