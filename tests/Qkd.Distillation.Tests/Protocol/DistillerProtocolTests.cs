using Qkd.Core;
using Qkd.Core.Bits;
using Qkd.Core.Random;
using Qkd.Core.Symbols;
using Qkd.Core.Channel;
using Qkd.Distillation.Protocol;
using Qkd.ClassicalChannel;

namespace Qkd.Distillation.Tests.Protocol;

/// <summary>The Alice/Bob protocol over an in-memory channel with synthetic detections (no emulator).</summary>
public class DistillerProtocolTests
{
    private static readonly DistillationOptions Options = new()
    {
        MeanPhotonNumbers = [0.5, 0.15, 0.0],
        IntensityProbabilities = [0.65, 0.25, 0.10],
        BlockSizeBits = 1 << 20,
        MinimumFinalBlockBits = 1 << 16,
    };

    /// <summary>
    /// Synthetic Bob: clicks with the per-intensity gains of a 25 km link, measures in the matching basis with
    /// probability 0.75, and flips the bit with probability <paramref name="qber"/>.
    /// </summary>
    private static List<Detection> Detections(SeededSymbolSource alice, long pulses, double qber, ulong seed)
    {
        var rng = new Xoshiro256StarStar(seed);
        double[] gain = [0.0242, 0.0075, 3e-6];
        var list = new List<Detection>();
        for (long i = 0; i < pulses; i++)
        {
            var s = alice.SymbolAt(i);
            if (rng.NextDouble() >= gain[(int)s.Intensity]) continue;
            Basis bobBasis = rng.NextDouble() < 0.75 ? Basis.Z : Basis.X;
            byte bit = bobBasis == s.Basis ? (byte)(s.Bit ^ (rng.NextDouble() < (s.Intensity == Intensity.Vacuum ? 0.5 : qber) ? 1 : 0)) : (byte)(rng.NextUInt64() & 1);
            list.Add(new Detection(i, bobBasis, bit));
        }
        return list;
    }

    private static async Task<(BobDistiller Bob, MemoryKeySink AliceKeys, MemoryKeySink BobKeys, string Closing)> Run(double qber, long pulses)
    {
        var alice = new SeededSymbolSource(5, new SymbolDistribution(0.75, [0.65, 0.25, 0.10]));
        var (ca, cb) = InMemoryClassicalChannel.CreatePair();
        var aliceKeys = new MemoryKeySink();
        var bobKeys = new MemoryKeySink();
        var aliceDistiller = new AliceDistiller(ca, alice, Options, aliceKeys, new Xoshiro256StarStar(9));
        var bob = new BobDistiller(cb, Options, bobKeys);
        var aliceTask = Task.Run(() => aliceDistiller.RunAsync());
        var detections = Detections(alice, pulses, qber, 77).ToArray();
        await bob.SiftAsync(detections);
        string closing = await bob.FinishAsync();
        Assert.Equal(closing, await aliceTask);
        return (bob, aliceKeys, bobKeys, closing);
    }

    [Fact]
    public async Task Honest_detections_give_identical_keys_under_the_same_block_ids()
    {
        var (bob, aliceKeys, bobKeys, _) = await Run(0.02, 120_000_000);

        Assert.Null(bob.AbortReason);
        Assert.NotEmpty(bobKeys.Keys);
        Assert.Equal(aliceKeys.Keys.Keys.Order(), bobKeys.Keys.Keys.Order());
        foreach (var (id, key) in bobKeys.Keys)
            Assert.Equal(aliceKeys.Keys[id], key);
        var first = bob.Blocks[0];
        Assert.Equal(BlockOutcome.Key, first.Outcome);
        Assert.InRange(first.QberZ, 0.015, 0.025);
        Assert.True(first.VerificationPassed);
        Assert.True(first.LeakedErrorCorrectionBits > first.SiftedZ * global::Qkd.Distillation.ErrorCorrection.BinaryEntropy.H2(first.QberZ));
        Assert.Equal((first.SecretBits + 7) / 8, bobKeys.Keys[first.BlockId].Length);
    }

    [Fact]
    public async Task High_error_rate_aborts_before_any_parity_is_disclosed()
    {
        var (bob, aliceKeys, bobKeys, closing) = await Run(0.2, 60_000_000);
        Assert.NotNull(bob.AbortReason);
        Assert.Contains("exceeds the abort threshold", bob.AbortReason);
        Assert.StartsWith("aborted", closing);
        Assert.Empty(aliceKeys.Keys);
        Assert.Empty(bobKeys.Keys);
        Assert.Equal(0, bob.Blocks[0].LeakedErrorCorrectionBits);
    }

    [Fact]
    public async Task Alice_rejects_replayed_pulse_indices()
    {
        var alice = new SeededSymbolSource(5, new SymbolDistribution(0.75, [0.65, 0.25, 0.10]));
        var (ca, cb) = InMemoryClassicalChannel.CreatePair();
        var aliceDistiller = new AliceDistiller(ca, alice, Options, new MemoryKeySink(), new Xoshiro256StarStar(1));
        var task = Task.Run(() => aliceDistiller.RunAsync());

        var w = new ProtocolWriter().Begin(MessageType.SiftRequest);
        w.WriteVarInt64(2);
        w.WriteVarInt64(100);
        w.WriteVarInt64(0); // same pulse again
        w.WritePacked([0, 0], 1);
        await cb.SendAsync(w.Message);

        var e = await Assert.ThrowsAsync<ProtocolException>(() => task);
        Assert.Contains("repeats or reorders pulse 100", e.Message);
    }

    [Fact]
    public async Task Bob_rejects_detections_out_of_order_without_sending_anything()
    {
        var (_, cb) = InMemoryClassicalChannel.CreatePair();
        var bob = new BobDistiller(cb, Options, new MemoryKeySink());
        await Assert.ThrowsAsync<ArgumentException>(async () => await bob.SiftAsync(new[] { new Detection(5, Basis.Z, 0), new Detection(5, Basis.X, 1) }));
        Assert.Equal(0, cb.Statistics.MessagesSent);
    }
}
