using System.Diagnostics.Metrics;
using Qkd.Acquisition.Loop;
using Qkd.Core.Rings;
using Qkd.Core.TimeTags;

namespace Qkd.Acquisition.Tests.Loop;

public class AcquisitionLoopTests
{
    /// <summary>A tagger that produces tags 0..count-1 (time = sequence, channel = sequence mod 4) in uneven batches.</summary>
    private sealed class CountingSource(long count, Exception? failAfter = null) : ITimeTagSource
    {
        private long _next;
        public string Name => "counting source";
        public long Produced => Volatile.Read(ref _next);

        public int Read(Span<TimeTag> destination, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_next >= count)
            {
                if (failAfter is not null) throw failAfter;
                return 0;
            }
            int n = (int)Math.Min(Math.Min(destination.Length, 1 + (_next * 7919 % 3000)), count - _next);
            for (int i = 0; i < n; i++, _next++)
                destination[i] = new TimeTag(_next, (ushort)(_next & 3));
            return n;
        }
    }

    private static async Task<List<long>> DrainAsync(SpscRing<TimeTag> ring, Func<long, Task>? onProgress = null)
    {
        var seen = new List<long>();
        var buffer = new TimeTag[1000];
        await Task.Run(async () =>
        {
            int n;
            while ((n = ring.Read(buffer, TestContext.Current.CancellationToken)) > 0)
            {
                for (int i = 0; i < n; i++) seen.Add(buffer[i].TimePs);
                if (onProgress is not null) await onProgress(seen.Count);
            }
        }, TestContext.Current.CancellationToken);
        return seen;
    }

    [Fact(Timeout = 30_000)]
    public async Task Every_tag_arrives_once_and_in_order_across_pauses()
    {
        const long total = 2_000_000;
        var source = new CountingSource(total);
        var ring = new SpscRing<TimeTag>(1 << 12, OverflowPolicy.BackPressure, new BlockingWaitStrategy());
        using var loop = new AcquisitionLoop(source, ring, new AcquisitionLoopOptions { BatchSize = 1024 });
        loop.Start();
        int pauses = 0, parked = 0;
        var resumers = new List<Task>();
        var seen = await DrainAsync(ring, count =>
        {
            if (count > pauses * 400_000 + 200_000 && pauses < 4)
            {
                pauses++;
                var paused = loop.PauseAsync();
                // The consumer goes on draining; once the loop has parked, someone else resumes it.
                resumers.Add(Task.Run(async () =>
                {
                    await paused;
                    if (loop.State == AcquisitionState.Paused) Interlocked.Increment(ref parked);
                    await Task.Delay(5);
                    loop.Resume();
                }));
            }
            return Task.CompletedTask;
        });
        await Task.WhenAll(resumers);
        await loop.Completion;

        Assert.Equal(total, seen.Count);
        for (int i = 0; i < seen.Count; i++)
            if (seen[i] != i) Assert.Fail($"tag {i} arrived as {seen[i]}");
        var snapshot = loop.Counters.Snapshot();
        Assert.Equal(total, snapshot.Tags);
        Assert.Equal(total / 4, snapshot.TagsPerChannel[1]);
        Assert.Equal(0, snapshot.DroppedByRing);
        Assert.Equal(AcquisitionState.Stopped, loop.State);
        Assert.True(ring.IsEndOfStream);
        Assert.Equal(4, pauses);
        Assert.True(parked >= 1, "the loop never parked");
    }

    [Fact(Timeout = 30_000)]
    public async Task Drop_newest_ring_counts_every_tag_it_refuses()
    {
        const long total = 500_000;
        var source = new CountingSource(total);
        var ring = new SpscRing<TimeTag>(1 << 8, OverflowPolicy.DropNewest);
        using var loop = new AcquisitionLoop(source, ring, new AcquisitionLoopOptions { BatchSize = 512 });
        loop.Start();
        // A consumer that only starts once the producer is done: most tags cannot fit.
        await loop.Completion;
        var seen = await DrainAsync(ring);

        var snapshot = loop.Counters.Snapshot();
        Assert.Equal(total, snapshot.Tags);
        Assert.True(snapshot.DroppedByRing > 0);
        Assert.Equal(total, seen.Count + snapshot.DroppedByRing);
        Assert.Equal(snapshot.DroppedByRing, ring.Dropped);
        // What did arrive is in order with nothing duplicated.
        Assert.Equal(seen.Order(), seen);
        Assert.Equal(seen.Count, seen.Distinct().Count());
    }

    [Fact(Timeout = 30_000)]
    public async Task Stop_mid_stream_loses_nothing_that_was_read()
    {
        var source = new CountingSource(long.MaxValue);
        var ring = new SpscRing<TimeTag>(1 << 10, OverflowPolicy.BackPressure, new BlockingWaitStrategy());
        using var loop = new AcquisitionLoop(source, ring);
        loop.Start();
        var seen = await DrainAsync(ring, count =>
        {
            if (count >= 100_000) loop.Stop();
            return Task.CompletedTask;
        });
        await loop.Completion;

        Assert.Equal(AcquisitionState.Stopped, loop.State);
        Assert.Equal(loop.Counters.Snapshot().Tags, seen.Count);
        Assert.Equal(source.Produced, seen.Count);
        Assert.Equal(Enumerable.Range(0, seen.Count).Select(i => (long)i), seen);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_failing_source_faults_the_loop_and_ends_the_stream()
    {
        var failure = new IOException("tagger unplugged");
        var ring = new SpscRing<TimeTag>(1 << 12, OverflowPolicy.BackPressure, new BlockingWaitStrategy());
        using var loop = new AcquisitionLoop(new CountingSource(10_000, failure), ring);
        loop.Start();
        var seen = await DrainAsync(ring);
        var e = await Assert.ThrowsAsync<IOException>(() => loop.Completion);
        Assert.Same(failure, e);
        Assert.Equal(AcquisitionState.Faulted, loop.State);
        Assert.Equal(10_000, seen.Count);
    }

    [Fact(Timeout = 30_000)]
    public void Options_and_double_start_are_rejected_with_reasons()
    {
        Assert.Contains("BatchSize", Assert.Throws<ArgumentException>(() => new AcquisitionLoopOptions { BatchSize = 0 }.Validate()).Message);
        Assert.Contains("PinToCpu", Assert.Throws<ArgumentException>(() => new AcquisitionLoopOptions { PinToCpu = 4096 }.Validate()).Message);
        using var loop = new AcquisitionLoop(new CountingSource(1), new SpscRing<TimeTag>(16));
        loop.Start();
        Assert.Contains("already started", Assert.Throws<InvalidOperationException>(loop.Start).Message);
    }

    [Fact(Timeout = 30_000)]
    public async Task Counters_are_published_as_metrics()
    {
        var ring = new SpscRing<TimeTag>(1 << 16, OverflowPolicy.BackPressure, new BlockingWaitStrategy());
        using var loop = new AcquisitionLoop(new CountingSource(40_000), ring);
        using var metrics = new AcquisitionMetrics("test tagger", loop.Counters, () => (ring.Fill, ring.Capacity));
        loop.Start();
        await loop.Completion;

        var perChannel = new Dictionary<int, long>();
        double fill = -1;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == AcquisitionMetrics.MeterName) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (instrument.Name != "qkd.acquisition.tags") return;
            foreach (var tag in tags)
                if (tag.Key == "channel") perChannel[(int)tag.Value!] = value;
        });
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) =>
        {
            if (instrument.Name == "qkd.acquisition.ring.fill") fill = value;
        });
        listener.Start();
        listener.RecordObservableInstruments();

        Assert.Equal(4, perChannel.Count);
        Assert.All(perChannel.Values, v => Assert.Equal(10_000, v));
        Assert.Equal(40_000.0 / (1 << 16), fill, 9);
    }
}
