using Qkd.Core;
using Qkd.Core.Random;
using Qkd.Core.Symbols;
using Qkd.ClassicalChannel;
using Qkd.Distillation.ParameterEstimation;

namespace Qkd.Distillation.Tests.Protocol;

/// <summary>
/// A one-decoy link (no vacuum pulses) distilled with the rusca2018 analysis: Bob sends the Z errors per intensity after
/// correction (KeyErrorCounts), both ends size the key from them and agree.
/// </summary>
public class OneDecoyProtocolTests
{
    [Fact]
    public async Task A_one_decoy_link_gives_identical_keys_sized_by_the_one_decoy_bounds()
    {
        var options = new DistillationOptions
        {
            MeanPhotonNumbers = [0.5, 0.15, 0.0],
            IntensityProbabilities = [0.7, 0.3, 0.0],
            BlockSizeBits = 1 << 20,
            MinimumFinalBlockBits = 1 << 16,
            FiniteKeyAnalysis = FiniteKeyAnalysisKind.Rusca2018,
        };
        options.Validate();
        var alice = new SeededSymbolSource(5, new SymbolDistribution(0.75, [0.7, 0.3, 0.0]));
        var (ca, cb) = InMemoryClassicalChannel.CreatePair();
        var aliceKeys = new MemoryKeySink();
        var bobKeys = new MemoryKeySink();
        var aliceDistiller = new AliceDistiller(ca, alice, options, aliceKeys, new Xoshiro256StarStar(9));
        var bob = new BobDistiller(cb, options, bobKeys);
        var aliceTask = Task.Run(() => aliceDistiller.RunAsync(TestContext.Current.CancellationToken));

        // A 25 km link's gains, Bob in the matching basis with probability 0.75, 2% bit errors.
        var rng = new Xoshiro256StarStar(77);
        double[] gain = [0.0242, 0.0075, 0];
        var detections = new List<Detection>();
        for (long i = 0; i < 80_000_000; i++)
        {
            var s = alice.SymbolAt(i);
            if (rng.NextDouble() >= gain[(int)s.Intensity]) continue;
            Basis basis = rng.NextDouble() < 0.75 ? Basis.Z : Basis.X;
            byte bit = basis == s.Basis ? (byte)(s.Bit ^ (rng.NextDouble() < 0.02 ? 1 : 0)) : (byte)(rng.NextUInt64() & 1);
            detections.Add(new Detection(i, basis, bit));
        }
        await bob.SiftAsync(detections.ToArray());
        Assert.Equal(await bob.FinishAsync(), await aliceTask);

        Assert.Null(bob.AbortReason);
        Assert.NotEmpty(bobKeys.Keys);
        foreach (var (id, key) in bobKeys.Keys) Assert.Equal(aliceKeys.Keys[id], key);
        var first = bob.Blocks[0];
        Assert.Equal(BlockOutcome.Key, first.Outcome);
        Assert.Equal(0, first.SiftedZPerIntensity[(int)Intensity.Vacuum]);
        // The vacuum upper bound of Eq. A16 was taken from the Z errors correction found.
        Assert.True(double.IsFinite(first.Bounds!.VacuumEventsZUpper));
        var expected = Rusca2018Analysis.Instance.Estimate(
            new DecoyStatistics(options.MeanPhotonNumbers, options.IntensityProbabilities, first.SiftedZPerIntensity, first.SiftedXPerIntensity,
                first.ErrorsXPerIntensity), first.ErrorsZPerIntensity, options.Security);
        Assert.Equal(expected, first.Bounds);
    }
}
