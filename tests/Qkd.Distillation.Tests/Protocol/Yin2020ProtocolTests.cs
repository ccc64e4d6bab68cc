using Qkd.Core;
using Qkd.Core.Random;
using Qkd.Core.Symbols;
using Qkd.ClassicalChannel;
using Qkd.Distillation.ParameterEstimation;

namespace Qkd.Distillation.Tests.Protocol;

/// <summary>A two-decoy link distilled with the yin2020 analysis: both ends size the key from the same bounds and agree.</summary>
public class Yin2020ProtocolTests
{
    [Fact]
    public async Task Both_ends_size_the_key_with_Yins_bounds_and_agree()
    {
        var options = new DistillationOptions
        {
            MeanPhotonNumbers = [0.5, 0.15, 0.0],
            IntensityProbabilities = [0.65, 0.25, 0.10],
            BlockSizeBits = 1 << 20,
            MinimumFinalBlockBits = 1 << 16,
            FiniteKeyAnalysis = FiniteKeyAnalysisKind.Yin2020,
        };
        options.Validate();
        var alice = new SeededSymbolSource(6, new SymbolDistribution(0.75, [0.65, 0.25, 0.10]));
        var (ca, cb) = InMemoryClassicalChannel.CreatePair();
        var aliceKeys = new MemoryKeySink();
        var bobKeys = new MemoryKeySink();
        var aliceDistiller = new AliceDistiller(ca, alice, options, aliceKeys, new Xoshiro256StarStar(10));
        var bob = new BobDistiller(cb, options, bobKeys);
        var aliceTask = Task.Run(() => aliceDistiller.RunAsync(TestContext.Current.CancellationToken));

        // A 25 km link's gains (vacuum: dark counts), Bob in the matching basis with probability 0.75, 2% bit errors on
        // signal and decoy, random bits on the vacuum (as KatoProtocolTests).
        var rng = new Xoshiro256StarStar(78);
        double[] gain = [0.0242, 0.0075, 4e-6];
        var detections = new List<Detection>();
        for (long i = 0; i < 80_000_000; i++)
        {
            var s = alice.SymbolAt(i);
            if (rng.NextDouble() >= gain[(int)s.Intensity]) continue;
            Basis basis = rng.NextDouble() < 0.75 ? Basis.Z : Basis.X;
            double flip = s.Intensity == Intensity.Vacuum ? 0.5 : 0.02;
            byte bit = basis == s.Basis ? (byte)(s.Bit ^ (rng.NextDouble() < flip ? 1 : 0)) : (byte)(rng.NextUInt64() & 1);
            detections.Add(new Detection(i, basis, bit));
        }
        await bob.SiftAsync(detections.ToArray());
        Assert.Equal(await bob.FinishAsync(), await aliceTask);

        Assert.Null(bob.AbortReason);
        Assert.NotEmpty(bobKeys.Keys);
        foreach (var (id, key) in bobKeys.Keys) Assert.Equal(aliceKeys.Keys[id], key);
        var first = bob.Blocks[0];
        Assert.Equal(BlockOutcome.Key, first.Outcome);
        var statistics = new DecoyStatistics(options.MeanPhotonNumbers, options.IntensityProbabilities, first.SiftedZPerIntensity,
            first.SiftedXPerIntensity, first.ErrorsXPerIntensity);
        var expected = Yin2020Analysis.Instance.Estimate(statistics, null, options.Security);
        Assert.Equal(expected, first.Bounds);
        Assert.Equal(Yin2020Analysis.Instance.KeyLength(expected, first.LeakedErrorCorrectionBits, first.VerificationTagBits, options.Security).SecretBits,
            first.SecretBits);
        Assert.True(expected.PhaseErrorRateZUpper < Lim2014Analysis.Instance.Estimate(statistics, null, options.Security).PhaseErrorRateZUpper);
    }
}
