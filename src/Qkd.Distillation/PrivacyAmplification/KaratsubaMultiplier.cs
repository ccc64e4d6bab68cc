using System.Buffers;

namespace Qkd.Distillation.PrivacyAmplification;

/// <summary>
/// Binary-polynomial products on packed words for the sizes below the FFT's break-even point: schoolbook with a
/// carry-less 64 x 64 base case, and Karatsuba above <see cref="SchoolbookThresholdWords"/>. Unbalanced operands are
/// cut into pieces the size of the shorter one.
/// </summary>
internal static class KaratsubaMultiplier
{
    /// <summary>Operands of at most this many words are multiplied schoolbook (measured break-even with PCLMULQDQ).</summary>
    public const int SchoolbookThresholdWords = 12;

    /// <summary>product[0 .. a.Length + b.Length) = a * b; product must not overlap a or b.</summary>
    public static void Multiply(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b, Span<ulong> product)
    {
        if (a.Length < b.Length)
        {
            var t = a;
            a = b;
            b = t;
        }
        // Now a is the longer operand.
        int total = a.Length + b.Length;
        if (b.Length == 0)
        {
            product[..total].Clear();
            return;
        }
        if (b.Length <= SchoolbookThresholdWords)
        {
            Schoolbook(a, b, product[..total]);
            return;
        }

        int n = b.Length;
        ulong[] rented = ArrayPool<ulong>.Shared.Rent(ScratchLength(n) + 2 * n);
        try
        {
            Span<ulong> piece = rented.AsSpan(0, 2 * n);
            Span<ulong> scratch = rented.AsSpan(2 * n);
            if (a.Length == n)
            {
                MultiplyBalanced(a, b, product[..total], scratch);
                return;
            }
            product[..total].Clear();
            int offset = 0;
            for (; offset + n <= a.Length; offset += n)
            {
                MultiplyBalanced(a.Slice(offset, n), b, piece, scratch);
                WordOps.Xor(product.Slice(offset, 2 * n), piece);
            }
            if (offset < a.Length)
            {
                int rest = a.Length - offset;
                Span<ulong> tail = piece[..(rest + n)];
                Multiply(a[offset..], b, tail); // shorter than b: recursion swaps the roles
                WordOps.Xor(product.Slice(offset, rest + n), tail);
            }
        }
        finally
        {
            // The operands are key material; do not leave pieces of them in the shared pool.
            ArrayPool<ulong>.Shared.Return(rented, clearArray: true);
        }
    }

    /// <summary>product = a * b by the schoolbook method; product.Length must be a.Length + b.Length.</summary>
    public static void Schoolbook(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b, Span<ulong> product)
    {
        product.Clear();
        for (int i = 0; i < a.Length; i++)
        {
            ulong ai = a[i];
            ulong carry = 0;
            Span<ulong> row = product.Slice(i, b.Length + 1);
            for (int j = 0; j < b.Length; j++)
            {
                ulong lo = CarrylessMultiply.Multiply(ai, b[j], out ulong hi);
                row[j] ^= lo ^ carry;
                carry = hi;
            }
            row[b.Length] ^= carry;
        }
    }

    /// <summary>Words of scratch that <see cref="MultiplyBalanced"/> needs for operands of n words.</summary>
    public static int ScratchLength(int n)
    {
        int total = 0;
        while (n > SchoolbookThresholdWords)
        {
            int high = n - (n >> 1);
            total += 4 * high;
            n = high;
        }
        return total;
    }

    /// <summary>product (2n words) = a * b for a and b of n words each, by Karatsuba.</summary>
    public static void MultiplyBalanced(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b, Span<ulong> product, Span<ulong> scratch)
    {
        int n = a.Length;
        if (n <= SchoolbookThresholdWords)
        {
            Schoolbook(a, b, product[..(2 * n)]);
            return;
        }
        int low = n >> 1, high = n - low; // high >= low
        Span<ulong> lowProduct = product[..(2 * low)];
        Span<ulong> highProduct = product.Slice(2 * low, 2 * high);
        MultiplyBalanced(a[..low], b[..low], lowProduct, scratch);
        MultiplyBalanced(a[low..], b[low..], highProduct, scratch);

        // (a0 + a1)(b0 + b1) + a0 b0 + a1 b1 = a0 b1 + a1 b0, the middle term, added at word offset 'low'.
        Span<ulong> sumA = scratch[..high];
        Span<ulong> sumB = scratch.Slice(high, high);
        Span<ulong> middle = scratch.Slice(2 * high, 2 * high);
        Span<ulong> deeper = scratch[(4 * high)..];
        a[low..].CopyTo(sumA);
        WordOps.Xor(sumA, a[..low]);
        b[low..].CopyTo(sumB);
        WordOps.Xor(sumB, b[..low]);
        MultiplyBalanced(sumA, sumB, middle, deeper);
        WordOps.Xor(middle, lowProduct);
        WordOps.Xor(middle, highProduct);
        WordOps.Xor(product.Slice(low, 2 * high), middle);
    }
}
