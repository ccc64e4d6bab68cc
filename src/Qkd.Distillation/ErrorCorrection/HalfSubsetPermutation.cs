using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using Qkd.Core.Bits;
using Qkd.Core.Random;

namespace Qkd.Distillation.ErrorCorrection;

/// <summary>
/// The order of a final (confirming) pass: a uniformly random subset of exactly ceil(n/2) frame bits, in frame
/// order, followed by the other bits, in frame order. With blocks of half the frame, the first block's parity is
/// the parity of a uniformly random half (the BICONF check), and whatever errors are left make it odd with
/// probability 1/2. Described by a bit mask, it costs a few microseconds per pass to draw and, with PEXT, to
/// apply; a binary search inside a half only needs the ranks, which a per-word prefix count gives.
/// </summary>
internal sealed class HalfSubsetPermutation : CascadePermutation
{
    private readonly ulong[] _mask;     // bit x set: frame bit x is in the first half of the order
    private int[]? _onesBefore;         // set bits of _mask in words 0..w-1; built when ranks are first needed
    private readonly int _half;

    // Drawn for every final pass of every frame at both ends: compiled optimised at once rather than through tier 0.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal HalfSubsetPermutation(int length, Xoshiro256StarStar random) : base(length)
    {
        _half = (length + 1) / 2;
        int words = PackedBits.WordCount(length);
        _mask = new ulong[words];
        for (int w = 0; w < words; w++) _mask[w] = random.NextUInt64();
        int used = length & 63;
        if (used != 0) _mask[words - 1] &= (1UL << used) - 1;

        // A fair coin per bit, then uniformly random additions or removals down to exactly half: every step keeps
        // all positions exchangeable, so the result is uniform over the subsets of that size.
        long ones = 0;
        foreach (ulong m in _mask) ones += BitOperations.PopCount(m);
        while (ones != _half)
        {
            int x = PermutationRandom.Below(random, length);
            ulong bit = 1UL << (x & 63);
            bool set = (_mask[x >> 6] & bit) != 0;
            if (ones < _half && !set) { _mask[x >> 6] |= bit; ones++; }
            else if (ones > _half && set) { _mask[x >> 6] &= ~bit; ones--; }
        }
    }

    /// <summary>
    /// Prefix counts for ranks. Built on first use (most final passes never need a rank); deterministic, so a race
    /// between threads only builds it twice.
    /// </summary>
    private int[] OnesBefore
    {
        get
        {
            var counts = Volatile.Read(ref _onesBefore);
            if (counts is null)
            {
                counts = new int[_mask.Length + 1];
                for (int w = 0; w < _mask.Length; w++) counts[w + 1] = counts[w] + BitOperations.PopCount(_mask[w]);
                Volatile.Write(ref _onesBefore, counts);
            }
            return counts;
        }
    }

    internal override int ToPermutedUnchecked(int originalIndex)
    {
        int w = originalIndex >> 6;
        ulong below = (1UL << (originalIndex & 63)) - 1;
        int onesBefore = OnesBefore[w] + BitOperations.PopCount(_mask[w] & below);
        return ((_mask[w] >> (originalIndex & 63)) & 1) != 0
            ? onesBefore
            : _half + (originalIndex - onesBefore);
    }

    internal override int ToOriginalUnchecked(int permutedIndex)
    {
        bool inSubset = permutedIndex < _half;
        int rank = inSubset ? permutedIndex : permutedIndex - _half;
        // Last word whose count of earlier members is <= rank.
        int low = 0, high = _mask.Length - 1;
        while (low < high)
        {
            int mid = (low + high + 1) >> 1;
            if (Before(mid, inSubset) <= rank) low = mid;
            else high = mid - 1;
        }
        ulong members = inSubset ? _mask[low] : ~_mask[low];
        return (low << 6) + SelectBit(members, rank - Before(low, inSubset));
    }

    /// <summary>Members (subset or complement) in words 0..w-1.</summary>
    private int Before(int w, bool inSubset) => inSubset ? OnesBefore[w] : (w << 6) - OnesBefore[w];

    internal override int BlockOfUnchecked(int originalIndex, int blockSize)
    {
        if (blockSize != _half) return base.BlockOfUnchecked(originalIndex, blockSize);
        return ((_mask[originalIndex >> 6] >> (originalIndex & 63)) & 1) != 0 ? 0 : 1;
    }

    /// <summary>The parity of either half is the parity of the frame under the mask or its complement.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal override bool TryRangeParity(ReadOnlySpan<ulong> frame, int start, int length, out int parity)
    {
        bool first = start == 0 && length == _half;
        bool second = start == _half && length == Length - _half;
        ulong accumulator = 0;
        if (first)
            for (int w = 0; w < _mask.Length; w++) accumulator ^= frame[w] & _mask[w];
        else if (second)
            for (int w = 0; w < _mask.Length; w++) accumulator ^= frame[w] & ~_mask[w]; // frame bits past Length are zero
        parity = BitOperations.PopCount(accumulator) & 1;
        return first || second;
    }

    /// <summary>
    /// Both halves' parities (blocks of <paramref name="blockSize"/> = half the frame) in one sweep of the frame: the
    /// subset's, and the complement's as the frame parity minus it. False for other block sizes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal bool TryHalfParities(ReadOnlySpan<ulong> frame, int blockSize, out int first, out int second)
    {
        first = second = 0;
        if (blockSize != _half) return false;
        ulong[] mask = _mask;
        frame = frame[..mask.Length];
        ulong inSubset = 0, all = 0;
        for (int w = 0; w < mask.Length; w++)
        {
            inSubset ^= frame[w] & mask[w];
            all ^= frame[w]; // frame bits past Length are zero
        }
        first = BitOperations.PopCount(inSubset) & 1;
        second = first ^ (BitOperations.PopCount(all) & 1);
        return true;
    }

    /// <summary>Index of the (rank+1)-th set bit of <paramref name="word"/>.</summary>
    private static int SelectBit(ulong word, int rank)
    {
        if (Bmi2.X64.IsSupported) return BitOperations.TrailingZeroCount(Bmi2.X64.ParallelBitDeposit(1UL << rank, word));
        for (int i = 0; i < rank; i++) word &= word - 1;
        return BitOperations.TrailingZeroCount(word);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private protected override void ApplyCore(ReadOnlySpan<ulong> source, Span<ulong> destination)
    {
        destination.Clear();
        int words = _mask.Length;
        int used = Length & 63;
        ulong lastValid = used == 0 ? ulong.MaxValue : (1UL << used) - 1;
        int position = 0;
        for (int pick = 0; pick < 2; pick++)
        {
            for (int w = 0; w < words; w++)
            {
                ulong members = pick == 0 ? _mask[w] : ~_mask[w] & (w == words - 1 ? lastValid : ulong.MaxValue);
                int count = BitOperations.PopCount(members);
                if (count == 0) continue;
                ulong run = Extract(source[w], members);
                int index = position >> 6, shift = position & 63;
                destination[index] |= run << shift;
                if (shift != 0 && shift + count > 64) destination[index + 1] |= run >> (64 - shift);
                position += count;
            }
        }
    }

    /// <summary>The bits of <paramref name="value"/> selected by <paramref name="members"/>, packed at the bottom.</summary>
    private static ulong Extract(ulong value, ulong members)
    {
        if (Bmi2.X64.IsSupported) return Bmi2.X64.ParallelBitExtract(value, members);
        ulong result = 0;
        for (int i = 0; members != 0; i++, members &= members - 1)
            result |= ((value >> BitOperations.TrailingZeroCount(members)) & 1) << i;
        return result;
    }
}
