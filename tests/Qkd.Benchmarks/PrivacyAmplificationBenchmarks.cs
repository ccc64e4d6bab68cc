using BenchmarkDotNet.Attributes;
using Qkd.Core.Bits;
using Qkd.Core.Random;
using Qkd.Distillation.PrivacyAmplification;
using Qkd.Distillation.Verification;

namespace Qkd.Benchmarks;

/// <summary>
/// Privacy amplification (Toeplitz hash of n bits to l = n/2) and the verification hash over the same n bits.
/// Throughput in input bits per second is n / mean time. The seed's cost per block is in <see cref="ToeplitzSeedBenchmarks"/>.
/// </summary>
[MemoryDiagnoser]
public class PrivacyAmplificationBenchmarks
{
    private PackedBits _key = null!;
    private PackedBits _toeplitzSeed = null!;
    private ulong[] _hashKeys = null!;

    [Params(1_000_000, 10_000_000)]
    public int InputBits { get; set; }

    public long OutputBits => InputBits / 2;

    [GlobalSetup]
    public void Setup()
    {
        IRandomSource random = new Xoshiro256StarStar(2024);
        _key = new PackedBits(InputBits);
        Span<ulong> words = _key.Words;
        for (int i = 0; i < words.Length; i++) words[i] = random.NextUInt64();
        _key = PackedBits.FromWords(_key.RawWords, InputBits);
        _toeplitzSeed = ToeplitzSeed.Draw(random, InputBits, OutputBits);
        _hashKeys = PolynomialHash.DrawKeys(random, PolynomialHash.LanesFor(InputBits, 1e-15));
    }

    [Benchmark(Description = "Toeplitz hash n -> n/2")]
    public PackedBits Toeplitz() => ToeplitzHash.Apply(_key, OutputBits, _toeplitzSeed);

    [Benchmark(Description = "Verification tag (polynomial hash, eps_cor 1e-15)")]
    public ulong[] VerificationTag() => PolynomialHash.ComputeTag(_key, _hashKeys);
}
