using Qkd.ClassicalChannel;
using Qkd.Core;
using Qkd.Core.Random;
using Qkd.Core.Symbols;
using Qkd.Distillation.ErrorCorrection;
using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Tests.Protocol;

/// <summary>
/// <see cref="DistillationOptions.ConcurrentStages"/>: an end that sifts while it distils (Bob cutting blocks for a
/// worker, Alice serving the sifting lane on a loop of its own) gives exactly the blocks and keys of the sequential
/// end, whichever end (or both) runs concurrently, for Cascade and LDPC, and with Toeplitz seeds sent in parts.
/// </summary>
public class ConcurrentStagesProtocolTests
{
    private static readonly DistillationOptions Options = new()
    {
        MeanPhotonNumbers = [0.5, 0.15, 0.0],
        IntensityProbabilities = [0.65, 0.25, 0.10],
        BlockSizeBits = 1 << 19,
        FrameSizeBits = 1 << 17,
        MinimumFinalBlockBits = 1 << 16,
        SiftBatchSize = 1 << 13,
    };

    private static readonly SymbolDistribution Symbols = new(0.75, [0.65, 0.25, 0.10]);

    // About four and a half blocks of sifted Z bits.
    private static readonly Lazy<Detection[]> SharedDetections = new(() => SyntheticBob.Detections(new SeededSymbolSource(5, Symbols), 220_000_000, 0.02, 78));

    private sealed record Session(BobDistiller Bob, MemoryKeySink AliceKeys, MemoryKeySink BobKeys, string Closing);

    private static async Task<Session> RunAsync(bool aliceConcurrent, bool bobConcurrent, DistillationOptions options)
    {
        var ct = TestContext.Current.CancellationToken;
        var (ca, cb) = InMemoryClassicalChannel.CreatePair();
        var aliceKeys = new MemoryKeySink();
        var bobKeys = new MemoryKeySink();
        var alice = new AliceDistiller(ca, new SeededSymbolSource(5, Symbols), options with { ConcurrentStages = aliceConcurrent }, aliceKeys,
            new Xoshiro256StarStar(9), new Xoshiro256StarStar(10));
        var bob = new BobDistiller(cb, options with { ConcurrentStages = bobConcurrent }, bobKeys);
        var aliceTask = Task.Run(() => alice.RunAsync(ct), ct);
        // In uneven batches, as an acquisition reader hands them over.
        var all = SharedDetections.Value;
        var rng = new Xoshiro256StarStar(3);
        for (int offset = 0; offset < all.Length;)
        {
            int n = Math.Min(all.Length - offset, 1 + (int)(rng.NextUInt64() % 20_000));
            await bob.SiftAsync(all.AsMemory(offset, n), ct);
            offset += n;
        }
        string closing = await bob.FinishAsync(ct);
        Assert.Equal(closing, await aliceTask);
        return new Session(bob, aliceKeys, bobKeys, closing);
    }

    private static string Summary(BlockResult b) =>
        $"{b.BlockId} {b.Outcome} Z {b.SiftedZ} X {b.SiftedX} secret {b.SecretBits} leaked {b.LeakedErrorCorrectionBits} rounds {b.ErrorCorrectionRounds} " +
        $"pulses {b.FirstPulse}..{b.LastPulse} X errors {string.Join(",", b.ErrorsXPerIntensity)} Z errors {string.Join(",", b.ErrorsZPerIntensity ?? [])}";

    public static TheoryData<ReconciliationMethod, bool> Cases => new()
    {
        { ReconciliationMethod.Cascade, false },
        { ReconciliationMethod.Ldpc, false },
        { ReconciliationMethod.Cascade, true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Concurrent_ends_give_the_blocks_and_keys_of_sequential_ends(ReconciliationMethod method, bool seedInParts)
    {
        var options = Options with { Reconciliation = method };
        if (seedInParts) options = options with { AmplificationSeedPartBits = 1 << 16 };
        var sequential = await RunAsync(false, false, options);
        Assert.True(sequential.Bob.Blocks.Count(b => b.Outcome == BlockOutcome.Key) >= 4, string.Join("\n", sequential.Bob.Blocks.Select(Summary)));
        Assert.Equal("end of session", sequential.Closing);

        foreach (var (alice, bob) in new[] { (true, true), (false, true), (true, false) })
        {
            var other = await RunAsync(alice, bob, options);
            Assert.Equal(sequential.Closing, other.Closing);
            Assert.Equal(sequential.Bob.Blocks.Select(Summary), other.Bob.Blocks.Select(Summary));
            Assert.Equal(sequential.Bob.SecretBits, other.Bob.SecretBits);
            Assert.Equal(sequential.BobKeys.Keys.Keys.Order(), other.BobKeys.Keys.Keys.Order());
            foreach (var (id, key) in sequential.BobKeys.Keys)
            {
                Assert.Equal(key, other.BobKeys.Keys[id]);
                Assert.Equal(key, other.AliceKeys.Keys[id]);
            }
        }
    }

    [Fact]
    public async Task A_failure_on_alices_sifting_lane_ends_both_ends_instead_of_hanging()
    {
        var ct = TestContext.Current.CancellationToken;
        var options = Options with { ConcurrentStages = true };
        var (ca, cb) = InMemoryClassicalChannel.CreatePair();
        var bobChannel = new TappedClassicalChannel(cb);
        int sifts = 0;
        // The third sift request repeats the first: Alice refuses it (pulses must increase).
        byte[]? first = null;
        bobChannel.OnSend = message =>
        {
            if (ProtocolReader.PeekType(message) != MessageType.SiftRequest) return message;
            first ??= message;
            return ++sifts == 3 ? first : message;
        };
        var alice = new AliceDistiller(ca, new SeededSymbolSource(5, Symbols), options, new MemoryKeySink(), new Xoshiro256StarStar(9));
        var bob = new BobDistiller(bobChannel, options, new MemoryKeySink());
        var (aliceError, bobError) = await BothEnds.RunAsync(alice, ca, bob, bobChannel, SharedDetections.Value, ct);

        Assert.IsType<ProtocolException>(aliceError);
        Assert.Contains("repeats or reorders", aliceError.Message);
        Assert.NotNull(bobError);
    }
}
