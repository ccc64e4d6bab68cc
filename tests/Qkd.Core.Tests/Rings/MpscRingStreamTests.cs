using Qkd.Core.Rings;
using Qkd.Core.TimeTags;

namespace Qkd.Core.Tests.Rings;

/// <summary>
/// Several producers, one consumer: each producer writes time tags whose channel is its id and whose time is its own
/// sequence number, so the consumer can check per-producer order, loss and duplication.
/// </summary>
public class MpscRingStreamTests
{
    private static readonly TimeSpan Hang = TimeSpan.FromMinutes(2);

    [Theory]
    [InlineData(2, 0)]
    [InlineData(3, 1)]
    [InlineData(4, 2)]
    public void Every_producers_elements_arrive_once_and_in_its_order(int producers, int strategy)
    {
        IWaitStrategy wait = strategy switch
        {
            0 => SpinWaitStrategy.Instance,
            1 => YieldingWaitStrategy.Instance,
            _ => new BlockingWaitStrategy(),
        };
        const int perProducer = 1_000_000;
        var ring = new MpscRing<TimeTag>(1 << 9, OverflowPolicy.BackPressure, wait);

        var threads = Enumerable.Range(0, producers).Select(id => new Thread(() =>
        {
            var random = Random.Xoshiro256StarStar.ForStream(11, $"producer {id}");
            var buffer = new TimeTag[300];
            long next = 0;
            while (next < perProducer)
            {
                int n = (int)Math.Min(1 + (int)(random.NextUInt64() % 300), perProducer - next);
                for (int i = 0; i < n; i++) buffer[i] = new TimeTag(next + i, (ushort)id);
                if (n == 1 ? !ring.Write(buffer[0]) : ring.Write(buffer.AsSpan(0, n)) != n)
                    throw new InvalidOperationException("back-pressure write returned early");
                next += n;
            }
        }) { IsBackground = true }).ToArray();

        var nextExpected = new long[producers];
        long duplicatesOrGaps = 0, foreign = 0;
        var consumer = new Thread(() =>
        {
            var buffer = new TimeTag[256];
            int n;
            while ((n = ring.Read(buffer)) > 0)
                for (int i = 0; i < n; i++)
                {
                    int id = buffer[i].Channel;
                    if (id >= producers) { foreign++; continue; }
                    if (buffer[i].TimePs != nextExpected[id]) duplicatesOrGaps++;
                    nextExpected[id] = buffer[i].TimePs + 1;
                }
        }) { IsBackground = true };

        foreach (var t in threads) t.Start();
        consumer.Start();
        foreach (var t in threads) Assert.True(t.Join(Hang), "a producer did not finish");
        ring.Complete();
        Assert.True(consumer.Join(Hang), "the consumer did not see the end of the stream");

        Assert.Equal(0, foreign);
        Assert.Equal(0, duplicatesOrGaps);
        Assert.All(nextExpected, n => Assert.Equal(perProducer, n));
        Assert.Equal((long)producers * perProducer, ring.Published);
        Assert.Equal(ring.Published, ring.Consumed);
        Assert.Equal(0, ring.Dropped);
    }

    [Fact]
    public void Concurrent_drop_newest_counts_every_drop_exactly()
    {
        const int producers = 3;
        const int perProducer = 600_000;
        var ring = new MpscRing<TimeTag>(128, OverflowPolicy.DropNewest, YieldingWaitStrategy.Instance);
        var accepted = Enumerable.Range(0, producers).Select(_ => new bool[perProducer]).ToArray();
        var seen = Enumerable.Range(0, producers).Select(_ => new bool[perProducer]).ToArray();
        var droppedByProducer = new long[producers];

        var threads = Enumerable.Range(0, producers).Select(id => new Thread(() =>
        {
            var random = Random.Xoshiro256StarStar.ForStream(12, $"producer {id}");
            var buffer = new TimeTag[64];
            long next = 0;
            while (next < perProducer)
            {
                int n = (int)Math.Min(1 + (int)(random.NextUInt64() % 64), perProducer - next);
                for (int i = 0; i < n; i++) buffer[i] = new TimeTag(next + i, (ushort)id);
                int written = n == 1 ? (ring.Write(buffer[0]) ? 1 : 0) : ring.Write(buffer.AsSpan(0, n));
                for (int i = 0; i < written; i++) accepted[id][next + i] = true;
                droppedByProducer[id] += n - written;
                next += n;
            }
        }) { IsBackground = true }).ToArray();

        long outOfOrder = 0, duplicates = 0;
        var consumer = new Thread(() =>
        {
            var last = new long[producers];
            Array.Fill(last, -1);
            var buffer = new TimeTag[100];
            int n;
            while ((n = ring.Read(buffer)) > 0)
                for (int i = 0; i < n; i++)
                {
                    int id = buffer[i].Channel;
                    long seq = buffer[i].TimePs;
                    if (seq <= last[id]) outOfOrder++;
                    if (seen[id][seq]) duplicates++;
                    seen[id][seq] = true;
                    last[id] = seq;
                }
        }) { IsBackground = true };

        foreach (var t in threads) t.Start();
        consumer.Start();
        foreach (var t in threads) Assert.True(t.Join(Hang), "a producer did not finish");
        ring.Complete();
        Assert.True(consumer.Join(Hang), "the consumer did not see the end of the stream");

        Assert.Equal(0, outOfOrder);
        Assert.Equal(0, duplicates);
        for (int id = 0; id < producers; id++)
            Assert.Equal(perProducer, accepted[id].AsSpan().CommonPrefixLength(seen[id])); // accepted and delivered agree element by element
        Assert.Equal((long)producers * perProducer, ring.Published + ring.Dropped);
        Assert.Equal(droppedByProducer.Sum(), ring.Dropped);
        Assert.Equal(ring.Published, ring.Consumed);
    }
}
