using System.Runtime.CompilerServices;
using Qkd.Core.Random;

namespace Qkd.Distillation.ErrorCorrection;

/// <summary>
/// A uniformly random permutation (Fisher-Yates) stored as explicit index tables. Exact but costs two int tables
/// and a bit-by-bit gather; used for frames short enough that this is cheap.
/// </summary>
internal sealed class ShufflePermutation : CascadePermutation
{
    private readonly int[] _toOriginal;
    private readonly int[] _toPermuted;

    public ShufflePermutation(int length, Xoshiro256StarStar random) : base(length)
    {
        _toOriginal = new int[length];
        _toPermuted = new int[length];
        PermutationRandom.Shuffle(random, _toOriginal);
        for (int i = 0; i < length; i++) _toPermuted[_toOriginal[i]] = i;
    }

    internal override int ToPermutedUnchecked(int originalIndex) => _toPermuted[originalIndex];

    internal override int ToOriginalUnchecked(int permutedIndex) => _toOriginal[permutedIndex];

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private protected override void ApplyCore(ReadOnlySpan<ulong> source, Span<ulong> destination)
    {
        int[] map = _toOriginal;
        int length = Length;
        for (int w = 0, start = 0; start < length; w++, start += 64)
        {
            int count = Math.Min(64, length - start);
            ulong word = 0;
            for (int j = 0; j < count; j++)
            {
                int p = map[start + j];
                word |= ((source[p >> 6] >> (p & 63)) & 1UL) << j;
            }
            destination[w] = word;
        }
    }
}
