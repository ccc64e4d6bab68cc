// PRE-CHANGE BASELINE (issue 14, sifting): a verbatim copy of the product code as it was before the sifting rewrite,
// renamed, used only by the benchmarks to time the old code against the new in the same run. Not product code.
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Qkd.Core;

namespace Qkd.Reference;
using Qkd.Distillation.Sifting;

/// <summary>
/// The per-detection work of sifting, on whole batches: Alice's basis comparison (<see cref="Match"/>) and both ends'
/// sorting of the kept records into the sifted buffers with the statistics (<see cref="Sort"/>). 64 detections a
/// step as bit masks (basis, bit, kept flag, intensity class: one bit of each detection's byte, gathered by a vector
/// move-mask), counted by popcount and appended by bit extract: no branch and no call per detection. Gives exactly
/// the records, order and counts of the per-detection loop it replaced (kept as the reference in the tests and
/// benchmarks).
/// </summary>
internal static class PreSiftKernel
{
    /// <summary>
    /// Alice's comparison: for each detection, 1 in <paramref name="keep"/> when her basis (bit 0 of the packed symbol)
    /// equals Bob's, and her intensity class (bits 2-3) in <paramref name="intensities"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Match(ReadOnlySpan<byte> symbols, ReadOnlySpan<byte> bobBases, Span<byte> keep, Span<byte> intensities)
    {
        int n = symbols.Length;
        if (bobBases.Length != n || keep.Length < n || intensities.Length < n)
            throw new ArgumentException($"Sift batch of {n} symbols with {bobBases.Length} bases, {keep.Length} flags and {intensities.Length} classes.");
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref byte s = ref MemoryMarshal.GetReference(symbols);
            ref byte b = ref MemoryMarshal.GetReference(bobBases);
            ref byte k = ref MemoryMarshal.GetReference(keep);
            ref byte c = ref MemoryMarshal.GetReference(intensities);
            var one = Vector256.Create((byte)1);
            var three = Vector256.Create((byte)3);
            for (; i + 32 <= n; i += 32)
            {
                var symbol = Vector256.LoadUnsafe(ref s, (nuint)i);
                var basis = Vector256.LoadUnsafe(ref b, (nuint)i);
                (Vector256.Equals(symbol & one, basis) & one).StoreUnsafe(ref k, (nuint)i);
                (Vector256.ShiftRightLogical(symbol, 2) & three).StoreUnsafe(ref c, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            keep[i] = (byte)((symbols[i] & 1) == bobBases[i] ? 1 : 0);
            intensities[i] = (byte)((symbols[i] >> 2) & 3);
        }
    }

    /// <summary>
    /// Appends the kept detections' records to the Z or X buffer by basis, in detection order, and adds the batch to
    /// <paramref name="statistics"/>. Detection i's basis is bit <paramref name="basisBit"/> of <paramref name="bases"/>[i],
    /// its key bit is bit <paramref name="bitBit"/> of <paramref name="bits"/>[i], kept when <paramref name="keep"/>[i]
    /// is 1 (0 or 1 only), its class <paramref name="intensities"/>[i] (0..2).
    /// </summary>
    /// <param name="selected">Empty, or two words per 64 detections: which of them became Z records, then which X
    /// (Bob's block bookkeeping needs the Z records' pulses and the X count before each block's end).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Sort(ReadOnlySpan<byte> bases, int basisBit, ReadOnlySpan<byte> bits, int bitBit,
        ReadOnlySpan<byte> keep, ReadOnlySpan<byte> intensities, PreSiftedBuffer z, PreSiftedBuffer x,
        SiftingStatistics statistics, Span<ulong> selected = default)
    {
        int n = keep.Length;
        if (bases.Length < n || bits.Length < n || intensities.Length < n)
            throw new ArgumentException($"Sift batch of {n} flags with {bases.Length} bases, {bits.Length} bits and {intensities.Length} classes.");
        if (!selected.IsEmpty && selected.Length < 2 * ((n + 63) / 64))
            throw new ArgumentException($"{selected.Length} words for the selections of {n} detections.", nameof(selected));
        long d0 = 0, d1 = 0, d2 = 0, z0 = 0, z1 = 0, z2 = 0, x0 = 0, x1 = 0, x2 = 0;
        for (int start = 0, word = 0; start < n; start += 64, word++)
        {
            int length = Math.Min(64, n - start);
            ulong all = length == 64 ? ulong.MaxValue : (1UL << length) - 1;
            var classes = intensities.Slice(start, length);
            ulong basisX = Mask(bases.Slice(start, length), basisBit);
            ulong bit = Mask(bits.Slice(start, length), bitBit);
            ulong kept = Mask(keep.Slice(start, length), 0);
            ulong low = Mask(classes, 0), high = Mask(classes, 1);
            ulong signal = ~low & ~high & all, decoy = low & ~high, vacuum = high & ~low;
            ulong zKept = kept & ~basisX, xKept = kept & basisX;
            d0 += BitOperations.PopCount(signal); d1 += BitOperations.PopCount(decoy); d2 += BitOperations.PopCount(vacuum);
            z0 += BitOperations.PopCount(zKept & signal); z1 += BitOperations.PopCount(zKept & decoy); z2 += BitOperations.PopCount(zKept & vacuum);
            x0 += BitOperations.PopCount(xKept & signal); x1 += BitOperations.PopCount(xKept & decoy); x2 += BitOperations.PopCount(xKept & vacuum);
            z.AppendSelected(bit, classes, zKept);
            x.AppendSelected(bit, classes, xKept);
            if (!selected.IsEmpty)
            {
                selected[2 * word] = zKept;
                selected[2 * word + 1] = xKept;
            }
        }
        statistics.Add([d0, d1, d2], [z0, z1, z2], [x0, x1, x2]);
    }

    /// <summary>Bit <paramref name="bit"/> of each of up to 64 bytes, byte i to bit i.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mask(ReadOnlySpan<byte> bytes, int bit)
    {
        if (bytes.Length == 64 && Vector256.IsHardwareAccelerated)
        {
            // The chosen bit shifted to each byte's top (a 16-bit shift: the top bit of each byte comes from that byte).
            ref byte r = ref MemoryMarshal.GetReference(bytes);
            int shift = 7 - bit;
            ulong lo = Vector256.ExtractMostSignificantBits(Vector256.ShiftLeft(Vector256.LoadUnsafe(ref r).AsUInt16(), shift).AsByte());
            ulong hi = Vector256.ExtractMostSignificantBits(Vector256.ShiftLeft(Vector256.LoadUnsafe(ref r, 32).AsUInt16(), shift).AsByte());
            return lo | (hi << 32);
        }
        ulong mask = 0;
        for (int i = 0; i < bytes.Length; i++)
            mask |= (ulong)((bytes[i] >> bit) & 1) << i;
        return mask;
    }
}
