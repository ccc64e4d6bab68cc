using BenchmarkDotNet.Attributes;
using Qkd.Core;
using Qkd.Core.Bits;
using Qkd.Core.Random;
using Qkd.Core.Symbols;
using Qkd.Distillation;
using Qkd.Core.Channel;
using Qkd.Core.Keys;
using Qkd.ClassicalChannel;

namespace Qkd.Benchmarks;

/// <summary>
/// Sifting throughput: Bob's detections through the SiftRequest/SiftResponse exchange with Alice's symbol lookup,
/// both ends in process over the in-memory channel. Reported per detection (OperationsPerInvoke).
/// </summary>
[MemoryDiagnoser]
public class SiftingBenchmarks
{
    private const int DetectionCount = 1 << 21;
    private Detection[] _detections = [];
    private SeededSymbolSource _alice = null!;

    private sealed class DiscardingSink : IKeySink
    {
        public void Accept(long blockId, PackedBits key) => throw new InvalidOperationException("No block is distilled in this benchmark.");
    }

    [GlobalSetup]
    public void Setup()
    {
        _alice = new SeededSymbolSource(1, new SymbolDistribution(0.75, [0.65, 0.25, 0.10]));
        IRandomSource rng = new Xoshiro256StarStar(2);
        _detections = new Detection[DetectionCount];
        long pulse = 0;
        for (int i = 0; i < DetectionCount; i++)
        {
            pulse += 1 + rng.NextInt(80);
            _detections[i] = new Detection(pulse, rng.NextDouble() < 0.75 ? Basis.Z : Basis.X, (byte)(rng.NextUInt64() & 1));
        }
    }

    [Benchmark(OperationsPerInvoke = DetectionCount)]
    public async Task<long> SiftDetections()
    {
        var options = new DistillationOptions
        {
            MeanPhotonNumbers = [0.5, 0.15, 0.0],
            IntensityProbabilities = [0.65, 0.25, 0.10],
            BlockSizeBits = 1L << 40,
            MinimumFinalBlockBits = 1L << 40,
        };
        var (ca, cb) = InMemoryClassicalChannel.CreatePair();
        var alice = new AliceDistiller(ca, _alice, options, new DiscardingSink(), new Xoshiro256StarStar(3));
        var bob = new BobDistiller(cb, options, new DiscardingSink());
        var aliceTask = Task.Run(() => alice.RunAsync());
        await bob.SiftAsync(_detections);
        await bob.FinishAsync();
        await aliceTask;
        return bob.Sifting.SiftedZ;
    }
}
