using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Qkd.Distillation.ErrorCorrection;

/// <summary>
/// In-place transpose of a 64 x 64 bit matrix held as 64 row words (bit j of row i is element (i, j)). The
/// word-parallel building block that lets <see cref="TransposeMixPermutation"/> permute a frame at memory speed
/// instead of one bit at a time.
/// </summary>
internal static class BitMatrix64
{
    /// <summary>After the call, bit i of <paramref name="rows"/>[j] is what bit j of rows[i] was.</summary>
    public static unsafe void Transpose(Span<ulong> rows)
    {
        if (rows.Length < 64) throw new ArgumentException("A 64 x 64 bit matrix needs 64 row words.", nameof(rows));
        fixed (ulong* p = rows) Transpose(p);
    }

    /// <summary>
    /// Recursive block swap: exchange the off-diagonal 32 x 32 blocks, then the 16 x 16 blocks inside every
    /// quadrant, and so on down to single bits (six stages of 32 delta swaps). While the swapped rows are at least
    /// four apart, four rows go through one 256-bit vector operation.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Transpose(ulong* rows)
    {
        ulong mask = 0x00000000FFFFFFFFUL;
        int width = 32;
        for (; width >= 4; width >>= 1, mask ^= mask << width)
        {
            var m = Vector256.Create(mask);
            // k runs over multiples of 4 whose 'width' bit is clear; rows k..k+3 pair with rows (k|width)..+3.
            for (int k = 0; k < 64; k = ((k | width) + 4) & ~width)
            {
                var low = Vector256.Load(rows + k);
                var high = Vector256.Load(rows + (k | width));
                var t = (Vector256.ShiftRightLogical(low, width) ^ high) & m;
                Vector256.Store(low ^ Vector256.ShiftLeft(t, width), rows + k);
                Vector256.Store(high ^ t, rows + (k | width));
            }
        }
        for (; width != 0; width >>= 1, mask ^= mask << width)
        {
            for (int k = 0; k < 64; k = ((k | width) + 1) & ~width)
            {
                ulong t = ((rows[k] >> width) ^ rows[k | width]) & mask;
                rows[k] ^= t << width;
                rows[k | width] ^= t;
            }
        }
    }
}
