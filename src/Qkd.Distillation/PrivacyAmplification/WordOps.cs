using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Qkd.Distillation.PrivacyAmplification;

/// <summary>Word-array primitives of the binary-polynomial code: XOR accumulation and bit-granular copies.</summary>
internal static class WordOps
{
    /// <summary>destination[k] ^= source[k] for k &lt; source.Length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Xor(Span<ulong> destination, ReadOnlySpan<ulong> source)
    {
        if (destination.Length < source.Length)
            throw new ArgumentException($"Destination of {destination.Length} words is shorter than the {source.Length}-word source.", nameof(destination));
        ref ulong d = ref MemoryMarshal.GetReference(destination);
        ref ulong s = ref MemoryMarshal.GetReference(source);
        int k = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; k + 8 <= source.Length; k += 8)
                (Vector512.LoadUnsafe(ref d, (nuint)k) ^ Vector512.LoadUnsafe(ref s, (nuint)k)).StoreUnsafe(ref d, (nuint)k);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; k + 4 <= source.Length; k += 4)
                (Vector256.LoadUnsafe(ref d, (nuint)k) ^ Vector256.LoadUnsafe(ref s, (nuint)k)).StoreUnsafe(ref d, (nuint)k);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            for (; k + 2 <= source.Length; k += 2)
                (Vector128.LoadUnsafe(ref d, (nuint)k) ^ Vector128.LoadUnsafe(ref s, (nuint)k)).StoreUnsafe(ref d, (nuint)k);
        }
        for (; k < source.Length; k++)
            Unsafe.Add(ref d, k) ^= Unsafe.Add(ref s, k);
    }

    /// <summary>Throws unless bits [offset, offset + count) lie inside <paramref name="words"/>.</summary>
    public static void RequireBitRange(ReadOnlySpan<ulong> words, long offset, long count, string name)
    {
        if (offset < 0 || count < 0 || offset + count > 64L * words.Length)
            throw new ArgumentOutOfRangeException(name, $"Bits [{offset}, {offset + count}) lie outside the {64L * words.Length} bits of {name}.");
    }

    /// <summary>
    /// Throws unless bits [start, start + count) lie within a product of operands of <paramref name="aBits"/> and
    /// <paramref name="bBits"/> bits and <paramref name="destination"/> can take them.
    /// </summary>
    public static void RequireProductRange(long aBits, long bBits, long start, long count, Span<ulong> destination)
    {
        if (start < 0 || count < 0 || start + count > aBits + bBits)
            throw new ArgumentOutOfRangeException(nameof(count), $"Product bits [{start}, {start + count}) lie outside the {aBits + bBits} bits of a {aBits} x {bBits}-bit product.");
        if (64L * destination.Length < count)
            throw new ArgumentException($"Destination of {destination.Length} words cannot hold {count} bits.", nameof(destination));
    }

    /// <summary>
    /// The 64 bits of <paramref name="words"/> starting at bit <paramref name="bitPosition"/>; bits at or past
    /// <paramref name="bitLimit"/> read as zero (the words there may hold unrelated data or not exist).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Read64(ReadOnlySpan<ulong> words, long bitPosition, long bitLimit)
    {
        if (bitPosition >= bitLimit) return 0;
        int word = (int)(bitPosition >> 6);
        int shift = (int)(bitPosition & 63);
        ulong value = words[word] >> shift;
        if (shift != 0 && bitPosition - shift + 64 < bitLimit)
            value |= words[word + 1] << (64 - shift);
        long available = bitLimit - bitPosition;
        return available >= 64 ? value : value & ((1UL << (int)available) - 1);
    }

    /// <summary>
    /// Copies <paramref name="bitCount"/> bits of <paramref name="source"/> starting at bit <paramref name="bitOffset"/>
    /// to the start of <paramref name="destination"/>, clearing the rest of the destination.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CopyBits(ReadOnlySpan<ulong> source, long bitOffset, long bitCount, Span<ulong> destination)
    {
        int words = checked((int)((bitCount + 63) >> 6));
        if (destination.Length < words)
            throw new ArgumentException($"Destination of {destination.Length} words cannot hold {bitCount} bits.", nameof(destination));
        long limit = bitOffset + bitCount;
        if ((bitOffset & 63) == 0)
        {
            int first = (int)(bitOffset >> 6);
            source.Slice(first, words).CopyTo(destination);
            int tail = (int)(bitCount & 63);
            if (tail != 0) destination[words - 1] &= (1UL << tail) - 1;
        }
        else
        {
            for (int w = 0; w < words; w++)
                destination[w] = Read64(source, bitOffset + 64L * w, limit);
        }
        destination[words..].Clear();
    }

    /// <summary>
    /// XORs <paramref name="bitCount"/> bits of <paramref name="source"/>, starting at bit <paramref name="bitOffset"/>, into
    /// the start of <paramref name="destination"/> (which must hold them; its bits past bitCount are left alone).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void XorBits(ReadOnlySpan<ulong> source, long bitOffset, long bitCount, Span<ulong> destination)
    {
        long limit = bitOffset + bitCount;
        int fullWords = (int)(bitCount >> 6);
        if ((bitOffset & 63) == 0)
        {
            Xor(destination, source.Slice((int)(bitOffset >> 6), fullWords));
        }
        else
        {
            for (int w = 0; w < fullWords; w++)
                destination[w] ^= Read64(source, bitOffset + 64L * w, limit);
        }
        if ((bitCount & 63) != 0)
            destination[fullWords] ^= Read64(source, bitOffset + 64L * fullWords, limit);
    }
}
