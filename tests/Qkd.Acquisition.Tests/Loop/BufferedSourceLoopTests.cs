using System.Diagnostics.Metrics;
using Qkd.Acquisition.Loop;
using Qkd.Core.Rings;
using Qkd.Core.TimeTags;

namespace Qkd.Acquisition.Tests.Loop;

/// <summary>
/// The acquisition loop over a source that drains itself into its own ring (as a tagger driver's reader thread does):
/// that ring is the one ring, read in place on the consumer's thread, and what it drops is counted as the loop's ring drops.
/// </summary>
public class BufferedSourceLoopTests
{
    /// <summary>
    /// A source with a ring of its own, filled by whoever calls <see cref="Produce"/> (the producer side), read through
    /// <see cref="Read"/>; under drop-newest what does not fit is counted in <see cref="Dropped"/>. With
    /// <c>disconnectAt</c>, the read that finds that many tags delivered reports the device gone, once.
    /// </summary>
    private sealed class RingSource(int capacity, OverflowPolicy policy, long disconnectAt = -1) : IBufferedTimeTagSource
    {
        private readonly SpscRing<TimeTag> _ring = new(capacity, policy, new BlockingWaitStrategy());
        private long _produced, _delivered;
        private bool _disconnected;

        public string Name => "ring source";
        public int Buffered => _ring.Fill;
        public int BufferCapacity => _ring.Capacity;
        public long Dropped => _ring.Dropped;

        /// <summary>Tags 0..count-1 after those already produced (time = sequence, channel = sequence mod 4), in batches of 100.</summary>
        public void Produce(int count)
        {
            var batch = new TimeTag[100];
            for (int done = 0; done < count;)
            {
                int n = Math.Min(batch.Length, count - done);
                for (int i = 0; i < n; i++, _produced++) batch[i] = new TimeTag(_produced, (ushort)(_produced & 3));
                _ring.Write(batch.AsSpan(0, n), TestContext.Current.CancellationToken);
                done += n;
            }
        }

        public void End() => _ring.Complete();

        public int Read(Span<TimeTag> destination, CancellationToken cancellationToken = default)
        {
            if (!_disconnected && _delivered == disconnectAt)
            {
                _disconnected = true;
                throw new TimeTagSourceDisconnectedException(Name, "unplugged");
            }
            int n = _ring.Read(destination, cancellationToken);
            _delivered += n;
            return n;
        }
    }

    private static List<TimeTag> ReadAll(AcquisitionLoop loop)
    {
        var all = new List<TimeTag>();
        var buffer = new TimeTag[333];
        int n;
        while ((n = loop.Read(buffer, TestContext.Current.CancellationToken)) > 0) all.AddRange(buffer.AsSpan(0, n));
        return all;
    }

    [Fact(Timeout = 30_000)]
    public async Task The_sources_own_ring_is_the_one_ring_and_every_tag_arrives_once_in_order()
    {
        const int total = 200_000;
        var source = new RingSource(1 << 10, OverflowPolicy.BackPressure);
        using var loop = new AcquisitionLoop(source);
        Assert.False(loop.HasOwnThread);
        Assert.Equal(1 << 10, loop.RingCapacity);
        loop.Start();
        // The source's own producer thread, as a driver's reader thread: back-pressure makes it wait for the consumer.
        var producer = Task.Run(() =>
        {
            source.Produce(total);
            source.End();
        }, TestContext.Current.CancellationToken);
        var tags = ReadAll(loop);
        await producer;
        await loop.Completion;

        Assert.Equal(Enumerable.Range(0, total).Select(i => (long)i), tags.Select(t => t.TimePs));
        var snapshot = loop.Counters.Snapshot();
        Assert.Equal(total, snapshot.Tags);
        Assert.All(snapshot.TagsPerChannel.Take(4), c => Assert.Equal(total / 4, c));
        Assert.Equal(0, snapshot.DroppedByRing);
        Assert.Equal(AcquisitionState.Stopped, loop.State);
        Assert.Equal(0, loop.Read(new TimeTag[1], TestContext.Current.CancellationToken));
    }

    [Fact(Timeout = 30_000)]
    public void When_the_one_ring_overflows_its_drops_are_counted_and_published()
    {
        // Nobody reads while 10,000 tags arrive at a drop-newest ring of 1024: 1024 are kept, 8976 dropped.
        var source = new RingSource(1 << 10, OverflowPolicy.DropNewest);
        using var loop = new AcquisitionLoop(source);
        using var metrics = new AcquisitionMetrics("test tagger", loop.Counters, () => (loop.RingFill, loop.RingCapacity));
        loop.Start();
        source.Produce(10_000);
        source.End();

        long dropped = -1;
        double fill = -1;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == AcquisitionMetrics.MeterName) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == "qkd.acquisition.dropped") dropped = value;
        });
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) =>
        {
            if (instrument.Name == "qkd.acquisition.ring.fill") fill = value;
        });
        listener.Start();
        listener.RecordObservableInstruments();
        Assert.Equal(8_976, dropped);
        Assert.Equal(1.0, fill);
        Assert.Equal(8_976, loop.Counters.Snapshot().DroppedByRing);

        var tags = ReadAll(loop);
        Assert.Equal(Enumerable.Range(0, 1024).Select(i => (long)i), tags.Select(t => t.TimePs));
        var snapshot = loop.Counters.Snapshot();
        Assert.Equal(1024, snapshot.Tags);
        Assert.Equal(10_000, snapshot.Tags + snapshot.DroppedByRing);
    }

    [Fact(Timeout = 30_000)]
    public void An_outage_of_a_buffered_source_is_counted_once_and_reading_goes_on()
    {
        var source = new RingSource(1 << 12, OverflowPolicy.BackPressure, disconnectAt: 666); // after two reads of 333
        using var loop = new AcquisitionLoop(source, new AcquisitionLoopOptions { ReconnectInterval = TimeSpan.Zero });
        var events = new List<string>();
        loop.SourceDisconnected += e => events.Add("disconnected: " + e.Message);
        loop.SourceReconnected += () => events.Add("reconnected");
        loop.Start();
        source.Produce(1_000);
        source.End();

        var tags = ReadAll(loop);
        Assert.Equal(Enumerable.Range(0, 1_000).Select(i => (long)i), tags.Select(t => t.TimePs));
        Assert.Equal(["disconnected: ring source: disconnected: unplugged", "reconnected"], events);
        Assert.Equal(1, loop.Counters.Snapshot().Disconnects);
    }

    [Fact(Timeout = 30_000)]
    public async Task Pause_parks_reads_until_resumed_and_stop_ends_the_stream()
    {
        var source = new RingSource(1 << 12, OverflowPolicy.BackPressure);
        using var loop = new AcquisitionLoop(source);
        Assert.Throws<InvalidOperationException>(() => loop.Read(new TimeTag[1], TestContext.Current.CancellationToken));
        loop.Start();
        source.Produce(1_000);

        // No read is in progress: the pause takes effect at once, and a read started now parks until Resume.
        await loop.PauseAsync().WaitAsync(TestContext.Current.CancellationToken);
        var read = Task.Run(() => loop.Read(new TimeTag[2_000], TestContext.Current.CancellationToken), TestContext.Current.CancellationToken);
        SpinWait.SpinUntil(() => loop.State == AcquisitionState.Paused, TimeSpan.FromSeconds(10));
        Assert.Equal(AcquisitionState.Paused, loop.State);
        loop.Resume();
        Assert.Equal(1_000, await read);

        loop.Stop();
        Assert.Equal(0, loop.Read(new TimeTag[10], TestContext.Current.CancellationToken));
        await loop.Completion;
        Assert.Equal(AcquisitionState.Stopped, loop.State);
        Assert.Equal(1_000, loop.Counters.Snapshot().Tags);
    }
}
