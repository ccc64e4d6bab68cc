using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using Qkd.Core.Bits;
using Qkd.Core.Random;
using Qkd.Distillation.ErrorCorrection;

namespace Qkd.Reference;

/// <summary>
/// <para>Reference copy, not product code: <c>TransposeMixPermutation</c> as it was before its tables were packed
/// (one int per word and round instead of separate row and rotation arrays), kept verbatim but for the base class.
/// <c>TransposeMixReferenceTests</c> checks that the packed one is the same permutation; <c>TransposeMixBenchmarks</c>
/// runs this one as the baseline.</para>
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
internal sealed class ReferenceTransposeMixPermutation
{
    /// <summary>Shortest frame the mix is defined for: at least one full 64 x 64 tile.</summary>
    public const int MinimumLength = 64 * 64;


    private const int Rounds = 2;

    private readonly int _wordCount;      // W: full words
    private readonly int _mixedLength;    // M = 64 W: bits that go through the rounds
    private readonly int[][] _rowOf;      // per round: sigma
    private readonly int[][] _wordAt;     // per round: sigma^-1
    private readonly byte[][] _rotation;  // per round: rho
    private readonly int[] _tailPartners; // sorted; tail bit M+k swaps with _tailPartners[k]

    public int Length { get; }

    internal ReferenceTransposeMixPermutation(int length, Xoshiro256StarStar random)
    {
        Length = length;
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

        _rowOf = new int[Rounds][];
        _wordAt = new int[Rounds][];
        _rotation = new byte[Rounds][];
        for (int r = 0; r < Rounds; r++)
        {
            var rowOf = new int[_wordCount];
            var wordAt = new int[_wordCount];
            var rotation = new byte[_wordCount];
            PermutationRandom.Shuffle(random, wordAt);
            for (int i = 0; i < _wordCount; i++) rowOf[wordAt[i]] = i;
            for (int w = 0; w < _wordCount; w += 8)
            {
                ulong bits = random.NextUInt64();
                for (int j = 0; j < 8 && w + j < _wordCount; j++, bits >>= 8)
                    rotation[w + j] = (byte)(bits & 63);
            }
            _rowOf[r] = rowOf;
            _wordAt[r] = wordAt;
            _rotation[r] = rotation;
        }
    }

    internal int ToPermutedUnchecked(int originalIndex)
    {
        int position = SwapTail(originalIndex);
        if (position >= _mixedLength) return position;
        for (int r = 0; r < Rounds; r++)
        {
            int word = position >> 6;
            int plane = ((position & 63) + _rotation[r][word]) & 63;
            position = plane * _wordCount + _rowOf[r][word];
        }
        return position;
    }

    internal int ToOriginalUnchecked(int permutedIndex)
    {
        int position = permutedIndex;
        if (position < _mixedLength)
        {
            for (int r = Rounds - 1; r >= 0; r--)
            {
                int plane = Math.DivRem(position, _wordCount, out int row);
                int word = _wordAt[r][row];
                position = (word << 6) | ((plane - _rotation[r][word]) & 63);
            }
        }
        return SwapTail(position);
    }

    /// <summary>The tail swap is an involution: tail bit M+k and its partner trade places.</summary>
    private int SwapTail(int position)
    {
        if (_tailPartners.Length == 0) return position;
        if (position >= _mixedLength) return _tailPartners[position - _mixedLength];
        int k = Array.BinarySearch(_tailPartners, position);
        return k >= 0 ? _mixedLength + k : position;
    }

    internal void ApplyCore(ReadOnlySpan<ulong> source, Span<ulong> destination)
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
        fixed (int* wordAt = _wordAt[round])
        fixed (byte* rotation = _rotation[round])
        {
            for (int i0 = 0; i0 < w; i0 += 64)
            {
                int rows = Math.Min(64, w - i0);
                for (int j = 0; j < rows; j++)
                {
                    int word = wordAt[i0 + j];
                    tile[j] = BitOperations.RotateLeft(source[word], rotation[word]);
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
