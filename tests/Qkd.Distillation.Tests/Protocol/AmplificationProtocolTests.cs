using Qkd.Core;
using Qkd.Core.Symbols;
using Qkd.Core.Random;
using Qkd.ClassicalChannel;
using Qkd.Distillation.Messages;
using Qkd.Distillation.PrivacyAmplification;
using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Tests.Protocol;

/// <summary>
/// Privacy amplification between the two distillers over the in-memory channel: the whole n + l - 1-bit Toeplitz seed
/// goes from Alice to Bob (in several messages when it is longer than a part), both ends hash with exactly those bits,
/// and a seed of the wrong length or out of order is refused.
/// </summary>
public class AmplificationProtocolTests
{
    /// <summary>Seeds of a 2^20-bit block (about 1.3 million bits) go in six parts of 2^18 bits.</summary>
    private const long SmallParts = 1 << 18;

    private static readonly DistillationOptions Options = new()
    {
        MeanPhotonNumbers = [0.5, 0.15, 0.0],
        IntensityProbabilities = [0.65, 0.25, 0.10],
        BlockSizeBits = 1 << 20,
        FrameSizeBits = 1 << 17,
        MinimumFinalBlockBits = 1 << 16,
    };

    private static readonly DistillationOptions PartedOptions = Options with { AmplificationSeedPartBits = SmallParts };

    private static readonly SymbolDistribution Symbols = new(0.75, [0.65, 0.25, 0.10]);

    // Enough detections for one full block (and a short leftover), shared by every test.
    private static readonly Lazy<Detection[]> SharedDetections = new(() => SyntheticBob.Detections(new SeededSymbolSource(5, Symbols), 110_000_000, 0.02, 77));

    private sealed record Run(BobDistiller Bob, List<byte[]> SeedMessages, MemoryKeySink AliceKeys, MemoryKeySink BobKeys,
        Exception? AliceError, Exception? BobError);

    /// <summary>
    /// Runs a session with <paramref name="options"/> at both ends and records Alice's AmplificationSeed messages as
    /// sent; <paramref name="rewriteAtBob"/> may change them on their way in. Errors are returned, not thrown.
    /// </summary>
    private static async Task<Run> RunAsync(DistillationOptions options, Func<byte[], byte[]>? rewriteAtBob = null, IRandomSource? seedRandom = null)
    {
        var (ca, cb) = InMemoryClassicalChannel.CreatePair();
        var aliceChannel = new TappedClassicalChannel(ca);
        var bobChannel = new TappedClassicalChannel(cb);
        var seedMessages = new List<byte[]>();
        aliceChannel.OnSend = message =>
        {
            if (message[0] == (byte)MessageType.AmplificationSeed) lock (seedMessages) seedMessages.Add(message);
            return message;
        };
        if (rewriteAtBob is not null)
            bobChannel.OnReceive = message => message[0] == (byte)MessageType.AmplificationSeed ? rewriteAtBob(message) : message;
        var aliceKeys = new MemoryKeySink();
        var bobKeys = new MemoryKeySink();
        var random = new Xoshiro256StarStar(9);
        var alice = new AliceDistiller(aliceChannel, new SeededSymbolSource(5, Symbols), options, aliceKeys, random, seedRandom ?? random);
        var bob = new BobDistiller(bobChannel, options, bobKeys);
        var ct = TestContext.Current.CancellationToken;
        var (aliceError, bobError) = await BothEnds.RunAsync(alice, aliceChannel, bob, bobChannel, SharedDetections.Value, ct);
        return new Run(bob, seedMessages, aliceKeys, bobKeys, aliceError, bobError);
    }

    /// <summary>Reassembles the seeds Alice sent, block by block, with the receiver's own checks.</summary>
    private static List<AmplificationSeed> SeedsSent(Run run, long partBits)
    {
        var seeds = new List<AmplificationSeed>();
        int next = 0;
        foreach (var block in run.Bob.Blocks.Where(b => b.VerificationPassed == true))
        {
            var seed = AmplificationSeed.Read(run.SeedMessages[next++], block.SiftedZ, partBits);
            while (!seed.IsComplete) seed = seed.ReadNext(run.SeedMessages[next++]);
            seeds.Add(seed);
        }
        Assert.Equal(run.SeedMessages.Count, next);
        return seeds;
    }

    [Fact]
    public void The_test_options_split_a_full_block_s_seed()
    {
        PartedOptions.Validate();
        Assert.Throws<ArgumentException>(() => (Options with { AmplificationSeedPartBits = 100 }).Validate());
        Assert.Throws<ArgumentException>(() => (Options with { AmplificationSeedPartBits = 2 * AmplificationSeed.PartBits }).Validate());
    }

    [Theory]
    [InlineData(AmplificationSeed.PartBits)] // the protocol's parts: one message per block
    [InlineData(SmallParts)]                 // several parts per block
    public async Task The_ends_agree_on_keys_hashed_with_the_whole_seed(long partBits)
    {
        var run = await RunAsync(Options with { AmplificationSeedPartBits = partBits }, seedRandom: new Xoshiro256StarStar(42));
        Assert.Null(run.AliceError);
        Assert.Null(run.BobError);

        var keyBlocks = run.Bob.Blocks.Where(b => b.Outcome == BlockOutcome.Key).ToList();
        Assert.NotEmpty(keyBlocks);
        var seeds = SeedsSent(run, partBits).Where(s => s.SecretBits > 0).ToList();
        Assert.Equal(keyBlocks.Count, seeds.Count);
        var source = new Xoshiro256StarStar(42); // Alice's seed stream, replayed
        for (int i = 0; i < keyBlocks.Count; i++)
        {
            var block = keyBlocks[i];
            var seed = seeds[i];
            Assert.Equal(run.AliceKeys.Keys[block.BlockId], run.BobKeys.Keys[block.BlockId]);
            Assert.Equal(block.SecretBits, seed.SecretBits);
            // n + l - 1 bits on the wire, exactly the next ones of Alice's seed stream (nothing stretched or derived).
            Assert.Equal(block.SiftedZ + block.SecretBits - 1, seed.Seed!.Length);
            Assert.True(ToeplitzSeed.Draw(source, block.SiftedZ, block.SecretBits).ContentEquals(seed.Seed), $"block {block.BlockId}'s seed");
            Assert.InRange(seed.Seed.PopCount(), 0.49 * seed.Seed.Length, 0.51 * seed.Seed.Length);
            Assert.Equal((int)((seed.Seed.Length + partBits - 1) / partBits), seed.MessageCount);
        }
        if (partBits == SmallParts)
            Assert.True(seeds[0].MessageCount >= 5, $"{seeds[0].MessageCount} parts");
        else
            Assert.Equal(run.Bob.Blocks.Count(b => b.VerificationPassed == true), run.SeedMessages.Count);
    }

    [Fact]
    public async Task Bob_hashes_with_the_bits_on_the_wire()
    {
        // One byte of the third part changed in transit: Alice's matrix and Bob's then differ in eight diagonals, and so
        // do their keys (nothing after privacy amplification compares them; the channel's authentication is what
        // rules this out in a real link).
        int seen = 0;
        var run = await RunAsync(PartedOptions, message =>
        {
            if (++seen != 3) return message;
            message[^1000] ^= 0xFF;
            return message;
        });
        Assert.Null(run.AliceError);
        Assert.Null(run.BobError);
        long first = run.Bob.Blocks.First(b => b.Outcome == BlockOutcome.Key).BlockId;
        Assert.NotEqual(run.AliceKeys.Keys[first], run.BobKeys.Keys[first]);
    }

    /// <summary>Alice's first seed message for Bob, with the seed length field changed by <paramref name="delta"/>.</summary>
    private static Func<byte[], byte[]> ChangeSeedLength(long delta) => message =>
    {
        var reader = new ProtocolReader(message, MessageType.AmplificationSeed);
        long blockId = reader.ReadVarInt64("block id");
        long secretBits = reader.ReadVarInt64("key length");
        if (secretBits == 0) return message;
        long seedBits = reader.ReadVarInt64("seed length");
        var w = new ProtocolWriter().Begin(MessageType.AmplificationSeed);
        w.WriteVarInt64(blockId);
        w.WriteVarInt64(secretBits);
        w.WriteVarInt64(seedBits + delta);
        var rest = message.AsSpan(message.Length - reader.Remaining);
        return [.. w.Message.Span, .. rest];
    };

    [Theory]
    [InlineData(1)]
    [InlineData(-1)]
    [InlineData(-1_000_000)]
    public async Task A_seed_of_another_length_than_n_plus_l_minus_1_is_refused(long delta)
    {
        var run = await RunAsync(Options, ChangeSeedLength(delta));
        var e = Assert.IsType<ProtocolException>(run.BobError);
        Assert.Matches(@"Toeplitz seed of \d+ bits; a \d+ x 1048576 matrix takes n \+ l - 1 = \d+\.", e.Message);
        Assert.Empty(run.BobKeys.Keys);
        Assert.Empty(run.AliceKeys.Keys);
    }

    [Fact]
    public async Task A_part_out_of_order_is_refused()
    {
        // The second message of the seed claims to be part 2: part 1 would be missing.
        int seen = 0;
        var run = await RunAsync(PartedOptions, message =>
        {
            if (++seen != 2) return message;
            var reader = new ProtocolReader(message, MessageType.AmplificationSeed);
            var w = new ProtocolWriter().Begin(MessageType.AmplificationSeed);
            w.WriteVarInt64(reader.ReadVarInt64("block id"));
            w.WriteVarInt64(reader.ReadVarInt64("key length"));
            w.WriteVarInt64(reader.ReadVarInt64("seed length"));
            w.WriteVarInt64(reader.ReadVarInt64("part") + 1);
            return [.. w.Message.Span, .. message.AsSpan(message.Length - reader.Remaining)];
        });
        var e = Assert.IsType<ProtocolException>(run.BobError);
        Assert.Matches(@"Toeplitz seed part 2 where part 1 of \d+ comes next", e.Message);
        Assert.Empty(run.BobKeys.Keys);
    }
}
