using CsCheck;
using Qkd.Core.Rings;

namespace Qkd.Core.Tests.Rings;

/// <summary>
/// Wrap-around property tests: random sequences of batch writes, claims, peeks, partial publishes and releases on tiny
/// rings, single threaded, checked after every step against a <see cref="Queue{T}"/> model (content, counters, drops).
/// </summary>
public class RingModelTests
{
    /// <summary>The operations both rings share, so one model run checks either.</summary>
    private interface IRingUnderTest
    {
        int Capacity { get; }
        long Published { get; }
        long Consumed { get; }
        long Dropped { get; }
        int Fill { get; }
        bool TryWrite(in long item);
        int TryWrite(ReadOnlySpan<long> items);
        int Write(ReadOnlySpan<long> items);
        bool TryRead(out long item);
        int TryRead(Span<long> destination);
        RingReadSpans<long> Peek(int maxCount);
        void Release(int count);
        /// <summary>Claims, fills with the given values, publishes the first <paramref name="publish"/>; returns how many were claimed (-1: unsupported).</summary>
        int ClaimFillPublish(ReadOnlySpan<long> values, int publish);
    }

    private sealed class Spsc(SpscRing<long> ring) : IRingUnderTest
    {
        public int Capacity => ring.Capacity;
        public long Published => ring.Published;
        public long Consumed => ring.Consumed;
        public long Dropped => ring.Dropped;
        public int Fill => ring.Fill;
        public bool TryWrite(in long item) => ring.TryWrite(item);
        public int TryWrite(ReadOnlySpan<long> items) => ring.TryWrite(items);
        public int Write(ReadOnlySpan<long> items) => ring.Write(items, TimeSpan.Zero);
        public bool TryRead(out long item) => ring.TryRead(out item);
        public int TryRead(Span<long> destination) => ring.TryRead(destination);
        public RingReadSpans<long> Peek(int maxCount) => ring.Peek(maxCount);
        public void Release(int count) => ring.Release(count);

        public int ClaimFillPublish(ReadOnlySpan<long> values, int publish)
        {
            var slots = ring.Claim(values.Length);
            int claimed = slots.CopyFrom(values);
            if (claimed != slots.Length) throw new InvalidOperationException("claim larger than requested");
            ring.Publish(Math.Min(publish, claimed));
            return claimed;
        }
    }

    private sealed class Mpsc(MpscRing<long> ring) : IRingUnderTest
    {
        public int Capacity => ring.Capacity;
        public long Published => ring.Published;
        public long Consumed => ring.Consumed;
        public long Dropped => ring.Dropped;
        public int Fill => ring.Fill;
        public bool TryWrite(in long item) => ring.TryWrite(item);
        public int TryWrite(ReadOnlySpan<long> items) => ring.TryWrite(items);
        public int Write(ReadOnlySpan<long> items) => ring.Write(items, TimeSpan.Zero);
        public bool TryRead(out long item) => ring.TryRead(out item);
        public int TryRead(Span<long> destination) => ring.TryRead(destination);
        public RingReadSpans<long> Peek(int maxCount) => ring.Peek(maxCount);
        public void Release(int count) => ring.Release(count);
        public int ClaimFillPublish(ReadOnlySpan<long> values, int publish) => -1;
    }

    private static readonly Gen<(int Kind, int Size, int Part)[]> Operations =
        Gen.Select(Gen.Int[0, 5], Gen.Int[0, 20], Gen.Int[0, 20]).Array[1, 150];

    [Fact]
    public void Spsc_ring_behaves_like_a_bounded_queue()
    {
        Gen.Select(Gen.Int[0, 4], Gen.Bool, Operations).Sample((log2Capacity, dropNewest, operations) =>
            RunAgainstModel(new Spsc(new SpscRing<long>(1 << log2Capacity, dropNewest ? OverflowPolicy.DropNewest : OverflowPolicy.BackPressure)), dropNewest, operations));
    }

    [Fact]
    public void Mpsc_ring_behaves_like_a_bounded_queue()
    {
        Gen.Select(Gen.Int[0, 4], Gen.Bool, Operations).Sample((log2Capacity, dropNewest, operations) =>
            RunAgainstModel(new Mpsc(new MpscRing<long>(1 << log2Capacity, dropNewest ? OverflowPolicy.DropNewest : OverflowPolicy.BackPressure)), dropNewest, operations));
    }

    private static void RunAgainstModel(IRingUnderTest ring, bool dropNewest, (int Kind, int Size, int Part)[] operations)
    {
        var model = new Queue<long>();
        long next = 0, published = 0, consumed = 0, dropped = 0;
        var values = new long[32];
        var output = new long[32];
        int step = 0;

        void Expect(bool condition, string what)
        {
            if (!condition) throw new Xunit.Sdk.XunitException($"step {step} (capacity {ring.Capacity}): {what}");
        }

        foreach (var (kind, size, part) in operations)
        {
            int free = ring.Capacity - model.Count;
            switch (kind)
            {
                case 0: // copying batch write, never drops
                {
                    for (int i = 0; i < size; i++) values[i] = next + i;
                    int written = ring.TryWrite(values.AsSpan(0, size));
                    Expect(written == Math.Min(size, free), $"TryWrite({size}) wrote {written}, {free} free");
                    for (int i = 0; i < written; i++) model.Enqueue(next++);
                    published += written;
                    break;
                }
                case 1: // policy write that must not wait: back-pressure times out at once, drop-newest counts
                {
                    for (int i = 0; i < size; i++) values[i] = next + i;
                    int written = ring.Write(values.AsSpan(0, size));
                    Expect(written == Math.Min(size, free), $"Write({size}) wrote {written}, {free} free");
                    for (int i = 0; i < written; i++) model.Enqueue(next++);
                    published += written;
                    if (dropNewest)
                    {
                        dropped += size - written;
                        next += size - written; // dropped values are gone for good: the stream skips them
                    }
                    break;
                }
                case 2: // zero-copy claim with a partial publish (SPSC), otherwise single-element write
                {
                    for (int i = 0; i < size; i++) values[i] = next + i;
                    int claimed = ring.ClaimFillPublish(values.AsSpan(0, size), part);
                    if (claimed < 0)
                    {
                        bool ok = ring.TryWrite(next);
                        Expect(ok == free > 0, $"TryWrite(item) returned {ok} with {free} free");
                        if (ok) { model.Enqueue(next++); published++; }
                        break;
                    }
                    Expect(claimed == Math.Min(size, free), $"Claim({size}) gave {claimed}, {free} free");
                    int count = Math.Min(part, claimed);
                    for (int i = 0; i < count; i++) model.Enqueue(next++);
                    published += count;
                    break;
                }
                case 3: // copying batch read
                {
                    int read = ring.TryRead(output.AsSpan(0, size));
                    Expect(read == Math.Min(size, model.Count), $"TryRead({size}) read {read}, {model.Count} queued");
                    for (int i = 0; i < read; i++) Expect(output[i] == model.Dequeue(), $"TryRead element {i} was {output[i]}");
                    consumed += read;
                    break;
                }
                case 4: // in-place peek, partial release
                {
                    var batch = ring.Peek(size);
                    Expect(batch.Length == Math.Min(size, model.Count), $"Peek({size}) gave {batch.Length}, {model.Count} queued");
                    int i = 0;
                    foreach (long expected in model)
                    {
                        if (i == batch.Length) break;
                        Expect(batch[i] == expected, $"Peek element {i} was {batch[i]}, expected {expected}");
                        i++;
                    }
                    int release = Math.Min(part, batch.Length);
                    ring.Release(release);
                    for (int k = 0; k < release; k++) model.Dequeue();
                    consumed += release;
                    break;
                }
                default: // single-element read
                {
                    bool ok = ring.TryRead(out long item);
                    Expect(ok == model.Count > 0, $"TryRead(out) returned {ok} with {model.Count} queued");
                    if (ok) { Expect(item == model.Dequeue(), $"TryRead(out) gave {item}"); consumed++; }
                    break;
                }
            }
            Expect(ring.Fill == model.Count, $"Fill {ring.Fill}, model {model.Count}");
            Expect(ring.Published == published, $"Published {ring.Published}, model {published}");
            Expect(ring.Consumed == consumed, $"Consumed {ring.Consumed}, model {consumed}");
            Expect(ring.Dropped == dropped, $"Dropped {ring.Dropped}, model {dropped}");
            step++;
        }
    }
}
