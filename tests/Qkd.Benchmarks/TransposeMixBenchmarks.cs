using BenchmarkDotNet.Attributes;
using Qkd.Core.Random;
using Qkd.Distillation.ErrorCorrection;
using Qkd.Reference;

namespace Qkd.Benchmarks;

/// <summary>
/// Cascade's growing-pass permutation on a 2^20-bit frame (the frame size of <c>qkd run</c>): what each end pays per
/// pass (draw the tables, apply to the frame) and what Bob pays per corrected bit and started pass (one index
/// mapping). The packed tables against the reference copy of the unpacked ones (tests/Shared/Reference), same run.
/// </summary>
[MemoryDiagnoser]
public class TransposeMixBenchmarks
{
    private const int FrameBits = 1 << 20;
    private const int Lookups = 20_000;

    private readonly ulong[] _frame = new ulong[FrameBits / 64];
    private readonly ulong[] _permuted = new ulong[FrameBits / 64];
    private readonly int[] _indices = new int[Lookups];
    private TransposeMixPermutation _packed = null!;
    private ReferenceTransposeMixPermutation _reference = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Xoshiro256StarStar(2024);
        for (int i = 0; i < _frame.Length; i++) _frame[i] = random.NextUInt64();
        for (int i = 0; i < _indices.Length; i++) _indices[i] = (int)(random.NextUInt64() % FrameBits);
        _packed = new TransposeMixPermutation(FrameBits, new Xoshiro256StarStar(7));
        _reference = new ReferenceTransposeMixPermutation(FrameBits, new Xoshiro256StarStar(7));
    }

    [Benchmark(Baseline = true, Description = "reference: draw + apply")]
    public object ReferenceDrawApply()
    {
        var permutation = new ReferenceTransposeMixPermutation(FrameBits, new Xoshiro256StarStar(11));
        permutation.ApplyCore(_frame, _permuted);
        return permutation;
    }

    [Benchmark(Description = "packed: draw + apply")]
    public object PackedDrawApply()
    {
        var permutation = new TransposeMixPermutation(FrameBits, new Xoshiro256StarStar(11));
        permutation.Apply(_frame, _permuted);
        return permutation;
    }

    [Benchmark(Description = "reference: 20k index mappings")]
    public int ReferenceLookups()
    {
        int sum = 0;
        foreach (int i in _indices) sum += _reference.ToPermutedUnchecked(i);
        return sum;
    }

    [Benchmark(Description = "packed: 20k index mappings")]
    public int PackedLookups()
    {
        int sum = 0;
        foreach (int i in _indices) sum += _packed.ToPermutedUnchecked(i);
        return sum;
    }
}
