using Qkd.Core;
using Qkd.Core.Random;
using Qkd.Core.Symbols;
using Qkd.ClassicalChannel;
using Qkd.Distillation.ErrorCorrection;
using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Tests.Protocol;

/// <summary>
/// A whole link with LDPC reconciliation over the in-memory channel: the same verification and key at both ends,
/// one LdpcStart and one LdpcSyndromes per block, a blind round trip per extra round, and the leakage both ends count.
/// </summary>
public class LdpcCorrectionProtocolTests
{
    private static readonly DistillationOptions Cascade = new()
    {
        MeanPhotonNumbers = [0.5, 0.15, 0.0],
        IntensityProbabilities = [0.65, 0.25, 0.10],
        BlockSizeBits = 1 << 20,
        MinimumFinalBlockBits = 1 << 16,
    };

    private static readonly DistillationOptions Ldpc = Cascade with { Reconciliation = ReconciliationMethod.Ldpc };

    private static readonly SymbolDistribution Symbols = new(0.75, [0.65, 0.25, 0.10]);

    private static readonly Lazy<Detection[]> SharedDetections = new(() => SyntheticBob.Detections(new SeededSymbolSource(5, Symbols), 110_000_000, 0.02, 77));

    private sealed record Run(BobDistiller Bob, TappedClassicalChannel BobChannel, TappedClassicalChannel AliceChannel,
        MemoryKeySink AliceKeys, MemoryKeySink BobKeys, Exception? AliceError, Exception? BobError);

    private static async Task<Run> RunAsync(DistillationOptions aliceOptions, DistillationOptions bobOptions)
    {
        var (ca, cb) = InMemoryClassicalChannel.CreatePair();
        var aliceChannel = new TappedClassicalChannel(ca);
        var bobChannel = new TappedClassicalChannel(cb);
        var aliceKeys = new MemoryKeySink();
        var bobKeys = new MemoryKeySink();
        var alice = new AliceDistiller(aliceChannel, new SeededSymbolSource(5, Symbols), aliceOptions, aliceKeys, new Xoshiro256StarStar(9));
        var bob = new BobDistiller(bobChannel, bobOptions, bobKeys);
        var (aliceError, bobError) = await BothEnds.RunAsync(alice, aliceChannel, bob, bobChannel, SharedDetections.Value, TestContext.Current.CancellationToken);
        return new Run(bob, bobChannel, aliceChannel, aliceKeys, bobKeys, aliceError, bobError);
    }

    [Fact]
    public async Task A_link_set_to_ldpc_gives_identical_verified_keys()
    {
        var run = await RunAsync(Ldpc, Ldpc);
        Assert.Null(run.AliceError);
        Assert.Null(run.BobError);
        var corrected = run.Bob.Blocks.Where(b => b.ErrorCorrectionFrames > 0).ToList();
        Assert.NotEmpty(corrected);
        foreach (var block in corrected)
        {
            Assert.Equal(ReconciliationMethod.Ldpc, block.Reconciliation);
            Assert.True(block.VerificationPassed);
            Assert.True(block.LeakedErrorCorrectionBits > 0);
            Assert.True(block.ErrorCorrectionEfficiency > 1.0);
        }
        var keyed = corrected.Where(b => b.Outcome == BlockOutcome.Key).ToList();
        Assert.NotEmpty(keyed);
        foreach (var block in keyed) Assert.Equal(run.AliceKeys.Keys[block.BlockId], run.BobKeys.Keys[block.BlockId]);

        // One syndrome message per block and one reveal exchange per extra round; no Cascade traffic at all.
        Assert.Equal(corrected.Count, run.BobChannel.Count(MessageType.LdpcStart));
        Assert.Equal(corrected.Count, run.AliceChannel.Count(MessageType.LdpcSyndromes));
        int blindRounds = corrected.Sum(b => b.ErrorCorrectionRounds - 1);
        Assert.Equal(blindRounds, run.BobChannel.Count(MessageType.LdpcRevealRequest));
        Assert.Equal(blindRounds, run.AliceChannel.Count(MessageType.LdpcReveal));
        Assert.Equal(0, run.BobChannel.Count(MessageType.ParityQueries));
        Assert.Equal(0, run.BobChannel.Count(MessageType.CorrectionStart));
        Assert.Equal(corrected.Sum(b => b.ErrorCorrectionDecodeFailures) > 0, blindRounds > 0);
    }

    [Fact]
    public async Task Ends_set_to_different_methods_stop_before_anything_is_disclosed()
    {
        var run = await RunAsync(Cascade, Ldpc);
        var error = Assert.IsType<ProtocolException>(run.AliceError);
        Assert.Contains("set to Cascade", error.Message);
        Assert.Equal(0, run.AliceChannel.Count(MessageType.LdpcSyndromes));
    }

    [Fact]
    public async Task Auto_on_a_fast_channel_keeps_cascade_and_probes_the_round_trip_each_block()
    {
        var auto = Cascade with { Reconciliation = ReconciliationMethod.Auto, PulseRateHz = 1e9 };
        var run = await RunAsync(auto, auto);
        Assert.Null(run.AliceError);
        Assert.Null(run.BobError);
        var corrected = run.Bob.Blocks.Where(b => b.ErrorCorrectionFrames > 0).ToList();
        Assert.NotEmpty(corrected);
        Assert.Equal(corrected.Count, run.BobChannel.Count(MessageType.RoundTripProbe));
        foreach (var block in corrected)
        {
            Assert.NotNull(block.RoundTripSeconds);
            Assert.True(block.LightSeconds > 0);
            Assert.True(block.VerificationPassed);
        }
        // The first block is chosen by the rule from what was measured (later ones also weigh Cascade's last count).
        var first = corrected[0];
        Assert.Equal(ReconciliationChoice.Choose(ReconciliationMethod.Auto, TimeSpan.FromSeconds(first.RoundTripSeconds!.Value),
            ReconciliationChoice.DefaultCascadeRounds, first.LightSeconds), first.Reconciliation);
    }
}
