using System.Buffers;

namespace Qkd.Distillation.PrivacyAmplification;

/// <summary>
/// Multiplication of polynomials over GF(2) stored as packed words: coefficient i is bit i%64 of word i/64
/// (little-endian, like <see cref="Qkd.Core.Bits.PackedBits"/>). Small operands use schoolbook carry-less
/// multiplication, medium ones Karatsuba, large ones an additive FFT over GF(2^64) (O(n log n)); all three give the
/// same bits, so the choice is purely about speed.
/// </summary>
public static class Gf2Polynomial
{
    /// <summary>
    /// Operands whose shorter side has at least this many words go through the FFT. Measured break-even against
    /// Karatsuba (Zen 4): about 256 words with the AVX-512 kernel, 2048 with AVX2, 4096 with the portable one.
    /// </summary>
    internal static readonly int FftThresholdWords = FftKernels.Best switch
    {
        FftKernel.Avx512 => 256,
        FftKernel.Avx2 => 2048,
        _ => 4096,
    };

    /// <summary>
    /// product = a * b. <paramref name="product"/> must hold at least a.Length + b.Length words and must not overlap the
    /// operands; words past a.Length + b.Length are cleared.
    /// </summary>
    public static void Multiply(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b, Span<ulong> product) =>
        Multiply(a, b, product, FftPolynomialMultiplier.MaxOperandWords);

    /// <summary><see cref="Multiply(ReadOnlySpan{ulong}, ReadOnlySpan{ulong}, Span{ulong})"/> with FFT operands cut into pieces of at most <paramref name="maxPieceWords"/>.</summary>
    internal static void Multiply(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b, Span<ulong> product, int maxPieceWords)
    {
        ValidateProduct(a, b, product);
        if (maxPieceWords < 1 || maxPieceWords > FftPolynomialMultiplier.MaxOperandWords)
            throw new ArgumentOutOfRangeException(nameof(maxPieceWords), maxPieceWords, $"Pieces must hold 1 .. {FftPolynomialMultiplier.MaxOperandWords} words.");
        int total = a.Length + b.Length;
        product[total..].Clear();
        if (Math.Min(a.Length, b.Length) >= FftThresholdWords)
        {
            // Operands too long for one transform are cut into pieces; the piece products add up at word offset ia + ib.
            product[..total].Clear();
            int piece = maxPieceWords;
            for (int ia = 0; ia < a.Length; ia += piece)
            {
                int pa = Math.Min(piece, a.Length - ia);
                for (int ib = 0; ib < b.Length; ib += piece)
                {
                    int pb = Math.Min(piece, b.Length - ib);
                    FftPolynomialMultiplier.MultiplyBitRange(a.Slice(ia, pa), 0, 64L * pa, b.Slice(ib, pb), 0, 64L * pb,
                        0, 64L * (pa + pb), product[(ia + ib)..], FftKernels.Best);
                }
            }
            return;
        }
        KaratsubaMultiplier.Multiply(a, b, product);
    }

    /// <summary>product = a * b by the O(a.Length * b.Length) schoolbook method (the reference the fast paths are tested against).</summary>
    public static void MultiplySchoolbook(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b, Span<ulong> product)
    {
        ValidateProduct(a, b, product);
        int total = a.Length + b.Length;
        product[total..].Clear();
        KaratsubaMultiplier.Schoolbook(a, b, product[..total]);
    }

    /// <summary>
    /// XORs bits [start, start + count) of a*b into bits [0, count) of <paramref name="destination"/>, where a is bits
    /// [aOffset, aOffset + aBits) of <paramref name="aWords"/> and b likewise. Picks the FFT for large operands and
    /// Karatsuba otherwise.
    /// </summary>
    internal static void XorProductBits(
        ReadOnlySpan<ulong> aWords, long aOffset, long aBits,
        ReadOnlySpan<ulong> bWords, long bOffset, long bBits,
        long start, long count, Span<ulong> destination)
    {
        WordOps.RequireBitRange(aWords, aOffset, aBits, nameof(aWords));
        WordOps.RequireBitRange(bWords, bOffset, bBits, nameof(bWords));
        WordOps.RequireProductRange(aBits, bBits, start, count, destination);
        if (aBits == 0 || bBits == 0 || count == 0) return;
        if (Math.Min(aBits, bBits) >= 64L * FftThresholdWords)
        {
            FftPolynomialMultiplier.MultiplyBitRange(aWords, aOffset, aBits, bWords, bOffset, bBits, start, count,
                destination, FftKernels.Best);
            return;
        }

        int aLength = checked((int)((aBits + 63) >> 6));
        int bLength = checked((int)((bBits + 63) >> 6));
        int total = aLength + bLength;
        ulong[] rented = ArrayPool<ulong>.Shared.Rent(total + aLength + bLength);
        try
        {
            Span<ulong> a = rented.AsSpan(0, aLength);
            Span<ulong> b = rented.AsSpan(aLength, bLength);
            Span<ulong> product = rented.AsSpan(aLength + bLength, total);
            WordOps.CopyBits(aWords, aOffset, aBits, a);
            WordOps.CopyBits(bWords, bOffset, bBits, b);
            KaratsubaMultiplier.Multiply(a, b, product);
            WordOps.XorBits(product, start, count, destination);
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(rented, clearArray: true);
        }
    }

    private static void ValidateProduct(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b, Span<ulong> product)
    {
        if (product.Length < a.Length + b.Length)
            throw new ArgumentException(
                $"The product of {a.Length}- and {b.Length}-word polynomials needs {a.Length + b.Length} words, the destination has {product.Length}.",
                nameof(product));
        if (product.Overlaps(a) || product.Overlaps(b))
            throw new ArgumentException("The product must not overlap an operand.", nameof(product));
    }
}
