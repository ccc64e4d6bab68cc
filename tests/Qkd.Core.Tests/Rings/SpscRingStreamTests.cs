using Qkd.Core.Rings;
using Qkd.Core.TimeTags;

namespace Qkd.Core.Tests.Rings;

/// <summary>Producer and consumer on their own threads: every element arrives exactly once, in order, with its content.</summary>
public class SpscRingStreamTests
{
    private static readonly TimeSpan Hang = TimeSpan.FromMinutes(2);

    [Fact]
    public void Hundred_million_elements_pass_in_order_through_zero_copy_batches()
    {
        const long total = 100_000_000;
        const int batch = 4096;
        var ring = new SpscRing<long>(1 << 16, OverflowPolicy.BackPressure, YieldingWaitStrategy.Instance);
        var canWrite = new Func<bool>(() => ring.Fill < ring.Capacity);

        var producer = new Thread(() =>
        {
            long next = 0;
            while (next < total)
            {
                var slots = ring.Claim((int)Math.Min(batch, total - next));
                if (slots.IsEmpty)
                {
                    ring.WaitStrategy.WaitUntil(canWrite, Timeout.InfiniteTimeSpan, default);
                    continue;
                }
                foreach (ref long slot in slots.First) slot = next++;
                foreach (ref long slot in slots.Second) slot = next++;
                ring.Publish(slots.Length);
            }
            ring.Complete();
        }) { IsBackground = true, Name = "ring test producer" };

        long expected = 0, firstMismatch = -1;
        var consumer = new Thread(() =>
        {
            while (true)
            {
                var items = ring.Peek(batch);
                if (items.IsEmpty)
                {
                    if (!ring.WaitToRead()) break;
                    continue;
                }
                if (!Check(items.First, ref expected) || !Check(items.Second, ref expected))
                {
                    firstMismatch = expected;
                    break;
                }
                ring.Release(items.Length);
            }
        }) { IsBackground = true, Name = "ring test consumer" };

        producer.Start();
        consumer.Start();
        Assert.True(consumer.Join(Hang) && producer.Join(Hang), "the stream did not finish");
        Assert.Equal(-1, firstMismatch);
        Assert.Equal(total, expected);
        Assert.Equal(total, ring.Published);
        Assert.Equal(total, ring.Consumed);
        Assert.Equal(0, ring.Dropped);
        Assert.True(ring.IsEndOfStream);
    }

    /// <summary>Each value must equal its sequence number; advances <paramref name="expected"/> past the checked ones.</summary>
    private static bool Check(ReadOnlySpan<long> items, ref long expected)
    {
        foreach (long value in items)
        {
            if (value != expected) return false;
            expected++;
        }
        return true;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Time_tags_pass_through_copying_writes_and_blocking_reads_with_each_wait_strategy(int strategy)
    {
        IWaitStrategy wait = strategy switch
        {
            0 => SpinWaitStrategy.Instance,
            1 => YieldingWaitStrategy.Instance,
            _ => new BlockingWaitStrategy(),
        };
        const int total = 2_000_000;
        var ring = new SpscRing<TimeTag>(1 << 10, OverflowPolicy.BackPressure, wait);
        var random = new Random.Xoshiro256StarStar(7);
        int[] batchSizes = Enumerable.Range(0, 4096).Select(_ => 1 + (int)(random.NextUInt64() % 700)).ToArray();

        var producer = new Thread(() =>
        {
            var buffer = new TimeTag[700];
            long next = 0;
            for (int b = 0; next < total; b++)
            {
                int n = (int)Math.Min(batchSizes[b % batchSizes.Length], total - next);
                for (int i = 0; i < n; i++, next++)
                    buffer[i] = new TimeTag(next * 1000, (ushort)(next % 8));
                if (ring.Write(buffer.AsSpan(0, n)) != n) throw new InvalidOperationException("back-pressure write returned early");
            }
            ring.Complete();
        }) { IsBackground = true };

        long received = 0;
        bool inOrder = true;
        var consumer = new Thread(() =>
        {
            var buffer = new TimeTag[333];
            int n;
            while ((n = ring.Read(buffer)) > 0)
            {
                for (int i = 0; i < n; i++, received++)
                    inOrder &= buffer[i].TimePs == received * 1000 && buffer[i].Channel == received % 8;
            }
        }) { IsBackground = true };

        producer.Start();
        consumer.Start();
        Assert.True(consumer.Join(Hang) && producer.Join(Hang), "the stream did not finish");
        Assert.True(inOrder);
        Assert.Equal(total, received);
        Assert.Equal(0, ring.Dropped);
    }

    [Fact]
    public void Concurrent_drop_newest_drops_exactly_the_elements_that_did_not_fit()
    {
        const int total = 3_000_000;
        var ring = new SpscRing<long>(256, OverflowPolicy.DropNewest, YieldingWaitStrategy.Instance);
        var accepted = new bool[total];
        var seen = new bool[total];
        long attempted = 0;

        var producer = new Thread(() =>
        {
            var buffer = new long[100];
            long next = 0;
            while (next < total)
            {
                int n = (int)Math.Min(buffer.Length, total - next);
                for (int i = 0; i < n; i++) buffer[i] = next + i;
                int written = ring.Write(buffer.AsSpan(0, n));
                for (int i = 0; i < written; i++) accepted[next + i] = true; // drop-newest: the head of the batch goes in
                next += n;
                attempted += n;
            }
            ring.Complete();
        }) { IsBackground = true };

        bool inOrder = true;
        var consumer = new Thread(() =>
        {
            var buffer = new long[64];
            long last = -1;
            int n;
            while ((n = ring.Read(buffer)) > 0)
                for (int i = 0; i < n; i++)
                {
                    inOrder &= buffer[i] > last;
                    last = buffer[i];
                    seen[buffer[i]] = true;
                }
        }) { IsBackground = true };

        producer.Start();
        consumer.Start();
        Assert.True(consumer.Join(Hang) && producer.Join(Hang), "the stream did not finish");
        Assert.True(inOrder);
        int firstDifference = accepted.AsSpan().CommonPrefixLength(seen);
        Assert.Equal(total, firstDifference); // accepted and delivered agree element by element
        Assert.Equal(attempted, ring.Published + ring.Dropped);
        Assert.Equal(accepted.LongCount(a => !a), ring.Dropped);
        Assert.Equal(ring.Published, ring.Consumed);
    }
}
