namespace Qkd.Distillation.ErrorCorrection;

/// <summary>
/// In-place transpose of a 64 x 64 bit matrix held as 64 row words (bit j of row i is element (i, j)). The
/// word-parallel building block that lets <see cref="TransposeMixPermutation"/> permute a frame at memory speed
/// instead of one bit at a time.
/// </summary>
internal static class BitMatrix64
{
    /// <summary>After the call, bit i of <paramref name="rows"/>[j] is what bit j of rows[i] was.</summary>
    public static void Transpose(Span<ulong> rows)
    {
        if (rows.Length < 64) throw new ArgumentException("A 64 x 64 bit matrix needs 64 row words.", nameof(rows));
        // Recursive block swap: exchange the off-diagonal 32 x 32 blocks, then the 16 x 16 blocks inside every
        // quadrant, and so on down to single bits (six stages of 32 delta swaps).
        ulong mask = 0x00000000FFFFFFFFUL;
        for (int width = 32; width != 0; width >>= 1, mask ^= mask << width)
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
