using Qkd.Core;
using Qkd.Core.Random;
using Qkd.Core.Symbols;
using Qkd.ClassicalChannel;

namespace Qkd.Distillation.Tests.Protocol;

/// <summary>
/// Bob's key hold (the node's link monitor answers it): a held block's key is kept by neither end, the session goes on,
/// and the blocks after the hold lifts yield key at both ends again, the same key.
/// </summary>
public class KeyHoldProtocolTests
{
    private static readonly DistillationOptions Options = new()
    {
        MeanPhotonNumbers = [0.5, 0.15, 0.0],
        IntensityProbabilities = [0.65, 0.25, 0.10],
        BlockSizeBits = 1 << 18,
        FrameSizeBits = 1 << 16,
        MinimumFinalBlockBits = 1 << 16,
    };

    private static readonly SymbolDistribution Symbols = new(0.75, [0.65, 0.25, 0.10]);

    [Fact]
    public async Task A_held_block_yields_key_at_neither_end_and_key_resumes_when_the_hold_lifts()
    {
        var (aliceChannel, bobChannel) = InMemoryClassicalChannel.CreatePair();
        var aliceKeys = new MemoryKeySink();
        var bobKeys = new MemoryKeySink();
        var random = new Xoshiro256StarStar(3);
        var asked = new List<long>();
        var alice = new AliceDistiller(aliceChannel, new SeededSymbolSource(7, Symbols), Options, aliceKeys, random);
        // Blocks 1 and 2 are held (an alarm raised on block 1, cleared before block 3).
        var bob = new BobDistiller(bobChannel, Options, bobKeys)
        {
            KeyHold = block =>
            {
                asked.Add(block.BlockId);
                Assert.True(block.VerificationPassed);
                return block.BlockId is 1 or 2 ? "QberRise alarm 1 raised on block 1" : null;
            },
        };
        var detections = SyntheticBob.Detections(new SeededSymbolSource(7, Symbols), 100_000_000, 0.02, 11);
        var (aliceError, bobError) = await BothEnds.RunAsync(alice, aliceChannel, bob, bobChannel, detections, TestContext.Current.CancellationToken);
        Assert.Null(aliceError);
        Assert.Null(bobError);
        Assert.True(bob.Blocks.Count >= 4, $"{bob.Blocks.Count} blocks");
        Assert.Equal(bob.Blocks.Where(b => b.VerificationPassed == true && b.KeyLength?.SecretBits > 0).Select(b => b.BlockId), asked);
        var held = bob.Blocks.Where(b => b.KeyWithheld).ToList();
        Assert.Equal([1L, 2L], held.Select(b => b.BlockId));
        Assert.All(held, b =>
        {
            Assert.Equal(BlockOutcome.NoKey, b.Outcome);
            Assert.StartsWith("key withheld: QberRise", b.Reason);
        });
        Assert.Equal(bob.Blocks.Where(b => b.Outcome == BlockOutcome.Key).Select(b => b.BlockId), bobKeys.Keys.Keys.Order());
        Assert.Equal(bobKeys.Keys.Keys.Order(), aliceKeys.Keys.Keys.Order());
        Assert.DoesNotContain(1L, bobKeys.Keys.Keys);
        Assert.Contains(3L, bobKeys.Keys.Keys);
        foreach (long id in bobKeys.Keys.Keys) Assert.Equal(aliceKeys.Keys[id], bobKeys.Keys[id]);
    }
}
