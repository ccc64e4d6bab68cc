using System.Runtime.CompilerServices;
using System.Numerics;

namespace Qkd.Distillation.PrivacyAmplification;

/// <summary>
/// Binary-polynomial products through <see cref="CantorFft"/>. The operands are cut into 32-bit pieces, each read as an
/// element of GF(2^64): the product of two pieces has degree at most 62, so no field reduction ever happens inside a
/// coefficient and the product in GF(2^64)[y] (y = x^32) is exactly the binary product. Operands are bit ranges of
/// word arrays, and only a requested bit range of the product is produced, so the Toeplitz hash can feed unaligned
/// seed windows and take the middle of the product without extra copies.
/// </summary>
internal static class FftPolynomialMultiplier
{
    private const int BitsPerPiece = 32;

    /// <summary>Largest transform the multiplier will allocate: 2^23 words (64 MB) per operand, two operands.</summary>
    public const int MaxLogSize = 23;

    /// <summary>Operands of at most this many words each always fit the largest transform (callers cut longer ones).</summary>
    public const int MaxOperandWords = (1 << (MaxLogSize - 2)) - 1;

    /// <summary>log2 of the transform size for operands of the given bit lengths (at least 16 words).</summary>
    public static int LogSizeFor(long aBits, long bBits)
    {
        long pieces = PiecesOf(aBits) + PiecesOf(bBits) - 1;
        return Math.Max(4, BitOperations.Log2((ulong)Math.Max(1, pieces - 1)) + 1);
    }

    /// <summary>The largest operand bit total (aBits + bBits) whose product fits a transform of 2^logSize words.</summary>
    public static long MaxTotalBitsFor(int logSize) => (1L << logSize) * BitsPerPiece;

    /// <summary>
    /// XORs bits [start, start + count) of a*b into destination bits [0, count), where a is bits
    /// [aOffset, aOffset + aBits) of <paramref name="aWords"/> and b likewise.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyBitRange(
        ReadOnlySpan<ulong> aWords, long aOffset, long aBits,
        ReadOnlySpan<ulong> bWords, long bOffset, long bBits,
        long start, long count, Span<ulong> destination, FftKernel kernel)
    {
        WordOps.RequireBitRange(aWords, aOffset, aBits, nameof(aWords));
        WordOps.RequireBitRange(bWords, bOffset, bBits, nameof(bWords));
        WordOps.RequireProductRange(aBits, bBits, start, count, destination);
        int logSize = LogSizeFor(aBits, bBits);
        if (logSize > MaxLogSize)
            throw new ArgumentException($"Operands of {aBits} and {bBits} bits exceed the largest transform (2^{MaxLogSize} words).");
        // Both buffers hold key material; disposing zeroises them.
        using TransformBuffer bufferA = TransformBuffer.Rent(logSize);
        using TransformBuffer bufferB = TransformBuffer.Rent(logSize);
        Span<ulong> ta = bufferA.Words;
        Span<ulong> tb = bufferB.Words;
        int piecesA = Pack(aWords, aOffset, aBits, ta);
        int piecesB = Pack(bWords, bOffset, bBits, tb);

        CantorFft.ToNovelBasis(ta, piecesA, kernel);
        CantorFft.Forward(ta, piecesA, kernel);
        CantorFft.ToNovelBasis(tb, piecesB, kernel);
        CantorFft.Forward(tb, piecesB, kernel);
        CantorFft.PointwiseMultiply(ta, tb, kernel);
        CantorFft.Inverse(ta, kernel);
        CantorFft.FromNovelBasis(ta, kernel);

        XorProductBits(ta, start, count, destination);
    }

    private static long PiecesOf(long bits) => (bits + BitsPerPiece - 1) / BitsPerPiece;

    /// <summary>Writes the 32-bit pieces of the bit range into the transform buffer, zero-padded; returns the piece count.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Pack(ReadOnlySpan<ulong> words, long offset, long bits, Span<ulong> target)
    {
        int pieces = (int)PiecesOf(bits);
        long limit = offset + bits;
        int k = 0;
        if ((offset & 63) == 0)
        {
            int first = (int)(offset >> 6);
            for (; k + 2 <= pieces && (offset + 32L * k + 64) <= limit; k += 2)
            {
                ulong w = words[first + (k >> 1)];
                target[k] = (uint)w;
                target[k + 1] = w >> 32;
            }
        }
        for (; k < pieces; k += 2)
        {
            ulong w = WordOps.Read64(words, offset + 32L * k, limit);
            target[k] = (uint)w;
            if (k + 1 < pieces) target[k + 1] = w >> 32;
        }
        target[pieces..].Clear();
        return pieces;
    }

    /// <summary>
    /// The product is sum over k of t[k] x^(32k) with t[k] of up to 63 bits, so word w of it is
    /// t[2w] ^ (t[2w+1] &lt;&lt; 32) ^ (t[2w-1] &gt;&gt; 32).
    /// </summary>
    private static ulong ProductWord(ReadOnlySpan<ulong> t, long w)
    {
        long k = 2 * w;
        ulong word = 0;
        if (k < t.Length) word ^= t[(int)k];
        if (k + 1 < t.Length) word ^= t[(int)k + 1] << 32;
        if (k >= 1 && k - 1 < t.Length) word ^= t[(int)k - 1] >> 32;
        return word;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void XorProductBits(ReadOnlySpan<ulong> t, long start, long count, Span<ulong> destination)
    {
        int outWords = (int)((count + 63) >> 6);
        int shift = (int)(start & 63);
        long firstWord = start >> 6;
        ulong current = ProductWord(t, firstWord);
        for (int o = 0; o < outWords; o++)
        {
            ulong next = ProductWord(t, firstWord + o + 1);
            ulong value = shift == 0 ? current : (current >> shift) | (next << (64 - shift));
            long remaining = count - 64L * o;
            if (remaining < 64) value &= (1UL << (int)remaining) - 1;
            destination[o] ^= value;
            current = next;
        }
    }
}
