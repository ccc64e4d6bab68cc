using Qkd.Core;
using Qkd.Core.Bits;
using Qkd.Core.Random;
using Qkd.Core.Symbols;
using Qkd.Core.Channel;
using Qkd.Distillation.Protocol;
using Qkd.ClassicalChannel;

namespace Qkd.Distillation.Tests.Protocol;

/// <summary>
/// Bob queues detections and sends a sift request per <see cref="DistillationOptions.SiftBatchSize"/> detections,
/// whatever batches his caller hands in: fewer tagged messages, the same blocks and keys, nothing left unsifted at the
/// end, and nothing sifted after an abort.
/// </summary>
public class SiftBatchingTests
{
    private const int SiftBatch = 1 << 14;

    private static readonly DistillationOptions Options = new()
    {
        MeanPhotonNumbers = [0.5, 0.15, 0.0],
        IntensityProbabilities = [0.65, 0.25, 0.10],
        BlockSizeBits = 1 << 20,
        FrameSizeBits = 1 << 18,
        MinimumFinalBlockBits = 1 << 16,
        SiftBatchSize = SiftBatch,
    };

    private static readonly SymbolDistribution Symbols = new(0.75, [0.65, 0.25, 0.10]);

    // About two and a half blocks of sifted Z bits.
    private static readonly Lazy<Detection[]> SharedDetections = new(() => SyntheticBob.Detections(new SeededSymbolSource(5, Symbols), 250_000_000, 0.02, 77));

    private sealed record Session(BobDistiller Bob, TappedClassicalChannel BobChannel, MemoryKeySink AliceKeys, MemoryKeySink BobKeys, string Closing);

    /// <summary>Runs a whole session; <paramref name="feed"/> hands Bob the detections however it likes.</summary>
    private static async Task<Session> RunAsync(Func<BobDistiller, CancellationToken, Task> feed, DistillationOptions? options = null)
    {
        options ??= Options;
        var ct = TestContext.Current.CancellationToken;
        var (ca, cb) = InMemoryClassicalChannel.CreatePair();
        var bobChannel = new TappedClassicalChannel(cb);
        var aliceKeys = new MemoryKeySink();
        var bobKeys = new MemoryKeySink();
        var alice = new AliceDistiller(ca, new SeededSymbolSource(5, Symbols), options, aliceKeys, new Xoshiro256StarStar(9));
        var bob = new BobDistiller(bobChannel, options, bobKeys);
        var aliceTask = Task.Run(() => alice.RunAsync(ct), ct);
        await feed(bob, ct);
        string closing = await bob.FinishAsync(ct);
        Assert.Equal(closing, await aliceTask);
        return new Session(bob, bobChannel, aliceKeys, bobKeys, closing);
    }

    /// <summary>Hands the detections over in uneven small batches, as an acquisition reader returns them.</summary>
    private static async Task FeedInSmallBatches(BobDistiller bob, CancellationToken ct)
    {
        var all = SharedDetections.Value;
        var rng = new Xoshiro256StarStar(3);
        for (int offset = 0; offset < all.Length;)
        {
            int n = Math.Min(all.Length - offset, 1 + (int)(rng.NextUInt64() % 7000));
            await bob.SiftAsync(all.AsMemory(offset, n), ct);
            offset += n;
            Assert.InRange(bob.PendingDetections, 0, SiftBatch - 1);
        }
    }

    private static string Summary(BlockResult b) =>
        $"{b.BlockId} {b.Outcome} Z {b.SiftedZ} X {b.SiftedX} secret {b.SecretBits} leaked {b.LeakedErrorCorrectionBits} rounds {b.ErrorCorrectionRounds} " +
        $"Z/intensity {string.Join(",", b.SiftedZPerIntensity)} X errors {string.Join(",", b.ErrorsXPerIntensity)} Z errors {string.Join(",", b.ErrorsZPerIntensity ?? [])}";

    [Fact]
    public async Task Small_caller_batches_are_sifted_a_full_batch_at_a_time_with_the_same_blocks_and_keys()
    {
        int detections = SharedDetections.Value.Length;
        var whole = await RunAsync(async (bob, ct) => await bob.SiftAsync(SharedDetections.Value, ct));
        var small = await RunAsync(FeedInSmallBatches);
        // One sift request per SiftBatchSize detections (the tail sent at the end), not one per caller batch.
        var tiny = await RunAsync(FeedInSmallBatches, Options with { SiftBatchSize = 4096 });

        Assert.Equal((detections + SiftBatch - 1) / SiftBatch, small.BobChannel.Count(MessageType.SiftRequest));
        Assert.Equal((detections + SiftBatch - 1) / SiftBatch, whole.BobChannel.Count(MessageType.SiftRequest));
        Assert.Equal((detections + 4095) / 4096, tiny.BobChannel.Count(MessageType.SiftRequest));

        Assert.True(whole.Bob.Blocks.Count(b => b.Outcome == BlockOutcome.Key) >= 2);
        foreach (var other in new[] { small, tiny })
        {
            Assert.Equal(whole.Closing, other.Closing);
            Assert.Equal(whole.Bob.Blocks.Select(Summary), other.Bob.Blocks.Select(Summary));
            Assert.Equal(whole.BobKeys.Keys.Keys.Order(), other.BobKeys.Keys.Keys.Order());
            foreach (var (id, key) in whole.BobKeys.Keys)
            {
                Assert.Equal(key, other.BobKeys.Keys[id]);
                Assert.Equal(key, other.AliceKeys.Keys[id]);
            }
            Assert.Equal(whole.Bob.Sifting.SiftedZ, other.Bob.Sifting.SiftedZ);
            Assert.Equal(0, other.Bob.PendingDetections);
        }
    }

    [Fact]
    public async Task Queued_detections_wait_for_a_full_batch_and_are_sifted_by_flush_and_at_the_end()
    {
        var first = SharedDetections.Value.AsMemory(0, 1000);
        var second = SharedDetections.Value.AsMemory(1000, 500);
        var run = await RunAsync(async (bob, ct) =>
        {
            await bob.SiftAsync(first, ct);
            Assert.Equal(1000, bob.PendingDetections);
            Assert.Equal(0, bob.Sifting.Detections);
            await bob.FlushAsync(ct);
            Assert.Equal(0, bob.PendingDetections);
            Assert.Equal(1000, bob.Sifting.Detections);
            await bob.FlushAsync(ct); // nothing queued: no message
            await bob.SiftAsync(second, ct);
            Assert.Equal(500, bob.PendingDetections);
        });

        // The tail is sifted before goodbye.
        Assert.Equal(1500, run.Bob.Sifting.Detections);
        Assert.Equal(0, run.Bob.PendingDetections);
        Assert.Equal([MessageType.SiftRequest, MessageType.SiftRequest, MessageType.Goodbye], run.BobChannel.Sent);
        Assert.StartsWith("only", run.Closing);
    }

    [Fact]
    public async Task An_abort_discards_queued_detections_unsifted()
    {
        var run = await RunAsync(async (bob, ct) =>
        {
            await bob.SiftAsync(SharedDetections.Value.AsMemory(0, 1000), ct);
            bob.Abort("interlock opened");
            await bob.FlushAsync(ct);
            Assert.Equal(0, bob.PendingDetections);
        });

        Assert.Equal(0, run.Bob.Sifting.Detections);
        Assert.Equal([MessageType.Goodbye], run.BobChannel.Sent);
        Assert.Equal("aborted: interlock opened", run.Closing);
    }

    [Fact]
    public async Task Detections_out_of_order_across_calls_are_refused_before_anything_is_queued()
    {
        var (_, cb) = InMemoryClassicalChannel.CreatePair();
        var bob = new BobDistiller(cb, Options, new MemoryKeySink());
        var ct = TestContext.Current.CancellationToken;
        await bob.SiftAsync(new[] { new Detection(5, Basis.Z, 0), new Detection(9, Basis.X, 1) }, ct);
        await Assert.ThrowsAsync<ArgumentException>(async () => await bob.SiftAsync(new[] { new Detection(12, Basis.Z, 0), new Detection(9, Basis.Z, 1) }, ct));
        Assert.Equal(2, bob.PendingDetections);
        Assert.Equal(0, cb.Statistics.MessagesSent);
    }

    [Fact]
    public void A_sift_batch_larger_than_alice_accepts_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => (Options with { SiftBatchSize = DistillationOptions.MaxSiftBatchSize + 1 }).Validate());
        Assert.Contains(nameof(DistillationOptions.SiftBatchSize), e.Message);
    }
}
