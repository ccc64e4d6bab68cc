using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Qkd.Core.Rings;
using Qkd.Core.TimeTags;

namespace Qkd.Benchmarks;

/// <summary>
/// Ring throughput in time tags per second, one real producer thread and one consumer thread (two producers for
/// MPSC), side by side with a bounded System.Threading.Channels channel in the same run. Each invocation moves a whole
/// stream through a fresh ring and ends when the consumer sees end of stream; reported per tag (OperationsPerInvoke).
/// Copying variants copy a driver-sized batch into the ring and out into the consumer's buffer; the in-place variant
/// fills claimed slots and reads peeked ones where they lie (the Disruptor way).
/// </summary>
[Config(typeof(Columns))]
public class RingBenchmarks
{
    private const int BatchedTags = 1 << 24;
    private const int SingleTags = 1 << 22;
    private const int RingCapacity = 1 << 14;

    private readonly TimeTag[] _source = new TimeTag[4096];

    [GlobalSetup]
    public void Setup()
    {
        for (int i = 0; i < _source.Length; i++)
            _source[i] = new TimeTag(i * 1250L, (ushort)(i & 3));
    }

    [Benchmark(OperationsPerInvoke = BatchedTags, Description = "SPSC batch 256 (copy in/out)")]
    public long SpscBatch256() => SpscCopying(256);

    [Benchmark(OperationsPerInvoke = BatchedTags, Description = "SPSC batch 4096 (copy in/out)")]
    public long SpscBatch4096() => SpscCopying(4096);

    [Benchmark(OperationsPerInvoke = BatchedTags, Description = "SPSC batch 4096 (claim/peek in place)")]
    public long SpscBatch4096InPlace()
    {
        var ring = new SpscRing<TimeTag>(RingCapacity, OverflowPolicy.BackPressure, YieldingWaitStrategy.Instance);
        Func<bool> hasSpace = () => ring.Fill < ring.Capacity;
        var producer = StartThread(() =>
        {
            long next = 0;
            while (next < BatchedTags)
            {
                var slots = ring.Claim((int)Math.Min(4096, BatchedTags - next));
                if (slots.IsEmpty)
                {
                    ring.WaitStrategy.WaitUntil(hasSpace, Timeout.InfiniteTimeSpan, default);
                    continue;
                }
                foreach (ref var slot in slots.First) slot = new TimeTag(next++ * 1250, 0);
                foreach (ref var slot in slots.Second) slot = new TimeTag(next++ * 1250, 0);
                ring.Publish(slots.Length);
            }
            ring.Complete();
        });
        long checksum = 0;
        while (ring.WaitToRead())
        {
            var tags = ring.Peek(4096);
            checksum += tags[tags.Length - 1].TimePs; // touch the batch once: the consumer owns it until released
            ring.Release(tags.Length);
        }
        producer.Join();
        return checksum;
    }

    [Benchmark(OperationsPerInvoke = SingleTags, Description = "SPSC single element")]
    public long SpscSingle()
    {
        var ring = new SpscRing<TimeTag>(RingCapacity, OverflowPolicy.BackPressure, YieldingWaitStrategy.Instance);
        var producer = StartThread(() =>
        {
            for (int i = 0; i < SingleTags; i++)
                ring.Write(_source[i & 4095]);
            ring.Complete();
        });
        long checksum = 0;
        while (ring.WaitToRead())
            while (ring.TryRead(out var tag))
                checksum += tag.TimePs;
        producer.Join();
        return checksum;
    }

    [Benchmark(OperationsPerInvoke = BatchedTags, Description = "MPSC 2 producers, batch 256 (copy in/out)")]
    public long MpscTwoProducers()
    {
        var ring = new MpscRing<TimeTag>(RingCapacity, OverflowPolicy.BackPressure, YieldingWaitStrategy.Instance);
        var producers = new[] { StartThread(() => ProduceMpsc(ring)), StartThread(() => ProduceMpsc(ring)) };
        // The benchmark thread is the consumer. It counts instead of waiting for Complete(): only after both producers
        // return may the ring be completed, and joining them first would serialise the run.
        long checksum = 0, received = 0;
        var buffer = new TimeTag[256];
        while (received < BatchedTags)
        {
            int n = ring.Read(buffer);
            received += n;
            checksum += buffer[n - 1].TimePs;
        }
        foreach (var p in producers) p.Join();
        return checksum;
    }

    private void ProduceMpsc(MpscRing<TimeTag> ring)
    {
        var batch = _source.AsSpan(0, 256);
        for (int written = 0; written < BatchedTags / 2; written += batch.Length)
            ring.Write(batch);
    }

    [Benchmark(OperationsPerInvoke = SingleTags, Description = "Channel bounded SingleReader/SingleWriter")]
    public async Task<long> BoundedChannel()
    {
        var channel = Channel.CreateBounded<TimeTag>(new BoundedChannelOptions(RingCapacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
            AllowSynchronousContinuations = false,
        });
        var producer = Task.Factory.StartNew(async () =>
        {
            var writer = channel.Writer;
            for (int i = 0; i < SingleTags; i++)
            {
                var tag = _source[i & 4095];
                if (!writer.TryWrite(tag))
                    await writer.WriteAsync(tag);
            }
            writer.Complete();
        }, TaskCreationOptions.LongRunning).Unwrap();
        long checksum = 0;
        var reader = channel.Reader;
        while (await reader.WaitToReadAsync())
            while (reader.TryRead(out var tag))
                checksum += tag.TimePs;
        await producer;
        return checksum;
    }

    private long SpscCopying(int batch)
    {
        var ring = new SpscRing<TimeTag>(RingCapacity, OverflowPolicy.BackPressure, YieldingWaitStrategy.Instance);
        var producer = StartThread(() =>
        {
            var source = _source.AsSpan(0, batch);
            for (int written = 0; written < BatchedTags; written += batch)
                ring.Write(source);
            ring.Complete();
        });
        var destination = new TimeTag[batch];
        long checksum = 0;
        int n;
        while ((n = ring.Read(destination)) > 0)
            checksum += destination[n - 1].TimePs;
        producer.Join();
        return checksum;
    }

    private static Thread StartThread(Action body)
    {
        var thread = new Thread(() => body()) { IsBackground = true, Name = "ring benchmark producer" };
        thread.Start();
        return thread;
    }

    private sealed class Columns : ManualConfig
    {
        public Columns() => AddColumn(new TagRateColumn());
    }

    private sealed class TagRateColumn : IColumn
    {
        public string Id => nameof(TagRateColumn);
        public string ColumnName => "M tags/s";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => "Millions of time tags moved from producer to consumer per second (1 / mean time per tag)";
        public bool IsAvailable(Summary summary) => true;
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var statistics = summary[benchmarkCase]?.ResultStatistics;
            return statistics is null ? "NA" : (1e3 / statistics.Mean).ToString("F1");
        }
    }
}
