using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using Qkd.Core.Bits;
using Qkd.Core.Random;

namespace Qkd.Distillation.ErrorCorrection;

/// <summary>
/// A pseudo-random permutation of a long frame that is applied word-parallel, at memory speed, instead of bit by
/// bit: a uniformly random permutation of a million bits costs milliseconds to draw and to apply on both sides for
/// every pass of every frame, which alone would exceed the whole throughput budget.
/// </summary>
/// <remarks>
/// View the frame as W = n/64 words. One mixing round moves word w to row sigma(w), rotates it by rho(w) bits, and
/// reads the W x 64 bit matrix column by column: bit b of word w lands at ((b + rho(w)) mod 64) * W + sigma(w).
/// After one round the 64 bits of a word sit in 64 different columns ("planes"), after the second every bit of a
/// word has gone through an independently drawn row and rotation, so bits that were close together (the error
/// pairs an earlier pass left in one block) end up in unrelated places, which is all Cascade needs. The n mod 64
/// tail bits are first swapped with random partners so that they, too, are mixed and different bits are left at
/// the end in every pass. The mapping of single indices is O(1) from small per-word tables, so Bob can follow a
/// corrected bit into every pass without index tables of the frame's size.
/// </remarks>
internal sealed class TransposeMixPermutation : CascadePermutation
{
    /// <summary>Shortest frame the mix is defined for: at least one full 64 x 64 tile.</summary>
    public const int MinimumLength = 64 * 64;

    private readonly int _wordCount;      // W: full words
    private readonly int _mixedLength;    // M = 64 W: bits that go through the rounds
    // Per round, one int per word packing a row and a rotation (value >> 6, value & 63): following an index through a
    // round costs one memory access instead of two. Bob follows every corrected bit into every started pass, and these
    // tables together with the passes' bits outgrow L2, so those accesses are cache misses.
    private readonly int[] _forward0, _forward1; // indexed by word w: sigma(w) << 6 | rho(w), rounds 0 and 1
    private readonly int[] _inverse0, _inverse1; // indexed by row i: sigma^-1(i) << 6 | rho(sigma^-1(i))
    private readonly int[] _tailPartners; // sorted; tail bit M+k swaps with _tailPartners[k]

    internal TransposeMixPermutation(int length, Xoshiro256StarStar random) : base(length)
    {
        if (length < MinimumLength)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"The transpose mix needs at least {MinimumLength} bits.");
        _wordCount = length >> 6;
        _mixedLength = _wordCount << 6;

        int tail = length - _mixedLength;
        _tailPartners = new int[tail];
        for (int k = 0; k < tail; k++)
        {
            int candidate;
            do candidate = PermutationRandom.Below(random, _mixedLength);
            while (Array.IndexOf(_tailPartners, candidate, 0, k) >= 0);
            _tailPartners[k] = candidate;
        }
        Array.Sort(_tailPartners);

        (_forward0, _inverse0) = DrawRound(random, _wordCount);
        (_forward1, _inverse1) = DrawRound(random, _wordCount);
    }

    /// <summary>
    /// One round's tables, drawn as the wire contract fixes them: sigma^-1 by a Fisher-Yates shuffle, then rho(w) as
    /// successive bytes (low 6 bits) of one draw per eight words.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (int[] Forward, int[] Inverse) DrawRound(Xoshiro256StarStar random, int wordCount)
    {
        var forward = new int[wordCount];
        var inverse = new int[wordCount];
        PermutationRandom.Shuffle(random, inverse);     // inverse[i] = sigma^-1(i) for now
        for (int w = 0; w < wordCount; w += 8)
        {
            ulong bits = random.NextUInt64();
            for (int j = 0; j < 8 && w + j < wordCount; j++, bits >>= 8)
                forward[w + j] = (int)(bits & 63);      // forward[w] = rho(w) for now
        }
        for (int i = 0; i < wordCount; i++)
        {
            int word = inverse[i];
            int rotation = forward[word] & 63;          // each word is reached once, before its entry is packed
            inverse[i] = (word << 6) | rotation;
            forward[word] = (i << 6) | rotation;
        }
        return (forward, inverse);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal override int ToPermutedUnchecked(int originalIndex)
    {
        int position = _tailPartners.Length == 0 ? originalIndex : SwapTail(originalIndex);
        if (position >= _mixedLength) return position;
        int entry = _forward0[position >> 6];
        position = (((position & 63) + entry) & 63) * _wordCount + (entry >> 6);
        entry = _forward1[position >> 6];
        return (((position & 63) + entry) & 63) * _wordCount + (entry >> 6);
    }

    internal override int ToOriginalUnchecked(int permutedIndex)
    {
        int position = permutedIndex;
        if (position < _mixedLength)
        {
            int plane = Math.DivRem(position, _wordCount, out int row);
            int entry = _inverse1[row];
            position = (entry & ~63) | ((plane - entry) & 63);
            plane = Math.DivRem(position, _wordCount, out row);
            entry = _inverse0[row];
            position = (entry & ~63) | ((plane - entry) & 63);
        }
        return _tailPartners.Length == 0 ? position : SwapTail(position);
    }

    /// <summary>The tail swap is an involution: tail bit M+k and its partner trade places.</summary>
    private int SwapTail(int position)
    {
        if (_tailPartners.Length == 0) return position;
        if (position >= _mixedLength) return _tailPartners[position - _mixedLength];
        int k = Array.BinarySearch(_tailPartners, position);
        return k >= 0 ? _mixedLength + k : position;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private protected override void ApplyCore(ReadOnlySpan<ulong> source, Span<ulong> destination)
    {
        int w = _wordCount;
        ulong[] first = ArrayPool<ulong>.Shared.Rent(w + 1);
        ulong[] second = ArrayPool<ulong>.Shared.Rent(w + 1);
        try
        {
            // first = source with the tail bits swapped into the mixed part.
            source.CopyTo(first);
            if (source.Length == w) first[w] = 0;
            for (int k = 0; k < _tailPartners.Length; k++)
                SwapBits(first, _tailPartners[k], _mixedLength + k);
            ulong tailWord = first[w];

            MixRound(first, second, 0);      // first -> second
            MixRound(second, first, 1);      // second -> first
            first.AsSpan(0, w).CopyTo(destination);
            if (destination.Length > w) destination[w] = tailWord;
        }
        finally
        {
            // Both held the frame (raw key) on its way through the rounds: cleared before anyone else rents them.
            Array.Clear(first, 0, w + 1);
            Array.Clear(second, 0, w + 1);
            ArrayPool<ulong>.Shared.Return(first);
            ArrayPool<ulong>.Shared.Return(second);
        }
    }

    /// <summary>
    /// One round: rows[sigma(w)] = rotl(input[w], rho(w)), then output bit (p W + i) = bit p of rows[i]. Rows are
    /// gathered 64 at a time into a stack tile, transposed there, and each tile column is written out as one
    /// 64-bit run, so the round touches every word a constant number of times.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private unsafe void MixRound(ulong[] input, ulong[] output, int round)
    {
        int w = _wordCount;
        Array.Clear(output, 0, w + 1);
        ulong* tile = stackalloc ulong[64];
        fixed (ulong* source = input)
        fixed (ulong* target = output)
        fixed (int* inverse = round == 0 ? _inverse0 : _inverse1)
        {
            for (int i0 = 0; i0 < w; i0 += 64)
            {
                int rows = Math.Min(64, w - i0);
                for (int j = 0; j < rows; j++)
                {
                    int entry = inverse[i0 + j];
                    tile[j] = BitOperations.RotateLeft(source[entry >> 6], entry & 63);
                }
                for (int j = rows; j < 64; j++) tile[j] = 0;
                BitMatrix64.Transpose(tile);
                // Column p of this tile is the run of 'rows' bits that starts at output bit p W + i0.
                for (int p = 0, bit = i0; p < 64; p++, bit += w)
                {
                    ulong run = tile[p];
                    int index = bit >> 6, shift = bit & 63;
                    target[index] |= run << shift;
                    if (shift != 0) target[index + 1] |= run >> (64 - shift);
                }
            }
        }
    }

    private static void SwapBits(ulong[] words, int a, int b)
    {
        ulong bitA = (words[a >> 6] >> (a & 63)) & 1UL;
        ulong bitB = (words[b >> 6] >> (b & 63)) & 1UL;
        if (bitA == bitB) return;
        words[a >> 6] ^= 1UL << (a & 63);
        words[b >> 6] ^= 1UL << (b & 63);
    }
}
