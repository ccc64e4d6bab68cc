using System.Buffers.Binary;

namespace Qkd.Core.Random;

/// <summary>Reads binary samples (bits, least significant first within each byte) a machine word at a time.</summary>
internal static class PackedSamples
{
    /// <summary>
    /// The samples from <paramref name="bit"/> on, as the low <paramref name="count"/> bits of the result (higher bits
    /// zero); <paramref name="count"/> is at least 57 unless <paramref name="end"/> comes first.
    /// </summary>
    public static ulong Load(ReadOnlySpan<byte> data, long bit, long end, out int count)
    {
        int at = (int)(bit >> 3);
        int shift = (int)(bit & 7);
        ulong word;
        if (at + 8 <= data.Length)
        {
            word = BinaryPrimitives.ReadUInt64LittleEndian(data[at..]);
        }
        else
        {
            word = 0;
            for (int i = 0; at + i < data.Length; i++) word |= (ulong)data[at + i] << (8 * i);
        }
        word >>= shift;
        count = (int)Math.Min(64 - shift, end - bit);
        return count == 64 ? word : word & ((1UL << count) - 1);
    }

    /// <summary>The sample at <paramref name="bit"/>.</summary>
    public static int At(ReadOnlySpan<byte> data, long bit) => (data[(int)(bit >> 3)] >> (int)(bit & 7)) & 1;
}
