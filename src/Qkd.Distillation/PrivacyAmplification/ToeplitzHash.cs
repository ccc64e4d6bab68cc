using System.Numerics;
using Qkd.Core.Bits;

namespace Qkd.Distillation.PrivacyAmplification;

/// <summary>
/// Privacy amplification by Toeplitz hashing. Over a seed drawn uniformly from all 2^(n+l-1) values, the l x n Toeplitz
/// matrices are a two-universal family (Carter-Wegman 1979; Krawczyk 1994; Mansour, Nisan, Tiwari 1990): for inputs
/// x != y, Pr[T x = T y] = 2^-l exactly, because the lowest set bit of x XOR y makes the l output bits of T (x XOR y)
/// independent uniform functions of the seed. That is what the leftover hash lemma needs for the finite-key
/// bound's epsilon_sec to hold information-theoretically, so the seed must be the full n + l - 1 random bits
/// (<see cref="ToeplitzSeed"/>), never a short key stretched to that length.
/// <para>
/// Definition. For an input x of n bits, an output length l with 1 &lt;= l &lt;= n and a seed s of n + l - 1 bits, the
/// l x n Toeplitz matrix is T[i, j] = s[i - j + n - 1] (constant along diagonals; its first row is s[n-1], s[n-2], ...,
/// s[0] and its first column s[n-1], ..., s[n+l-2]) and the output is y_i = XOR over j of T[i, j] x_j, for i in 0..l-1.
/// Bit k of a <see cref="PackedBits"/> is element k.
/// </para>
/// <para>
/// Computation. With X(z) = sum x_j z^j and S(z) = sum s_k z^k over GF(2), the coefficient of z^(i+n-1) in X*S is
/// sum_j x_j s_(i+n-1-j) = y_i: the output is the "middle product", coefficients n-1 .. n+l-2. It is computed by fast
/// binary-polynomial multiplication (<see cref="Gf2Polynomial"/>: an additive FFT for large inputs, Karatsuba for small
/// ones), never materialising T. The input is cut into pieces when that is cheaper (short outputs) or needed to bound
/// memory (huge inputs); piece x[o, o+len) meets the seed window starting at n - o - len, of l + len - 1 bits, and
/// contributes bits len-1 .. len+l-2 of their product.
/// </para>
/// </summary>
public static class ToeplitzHash
{
    /// <summary>
    /// Bits of (piece + window) per FFT product: what the largest transform holds, less a margin for the rounding of
    /// pieces. Bounds the transform buffers at 2 x 64 MB, so inputs of 10^8 bits and more are processed in a few
    /// products instead of one huge one.
    /// </summary>
    internal const long MaxProductBits = ((1L << FftPolynomialMultiplier.MaxLogSize) - 16) * 32;

    /// <summary>
    /// Output lengths up to this (and below a quarter of the input) are served by cutting the input into small pieces:
    /// measured, pieces of max(2l, 2048) bits beat one FFT product up to about l = 5000 at n = 10^7.
    /// </summary>
    private const long ShortOutputBits = 4096;

    /// <summary>Hashes <paramref name="input"/> (n bits) to <paramref name="outputLength"/> bits with the Toeplitz matrix of <paramref name="seed"/>.</summary>
    /// <exception cref="ArgumentException">The seed is not n + l - 1 bits long, or the lengths are out of range.</exception>
    public static PackedBits Apply(PackedBits input, long outputLength, PackedBits seed) =>
        Apply(input, outputLength, seed, MaxProductBits);

    /// <summary><see cref="Apply(PackedBits, long, PackedBits)"/> with a chosen product-size cap (tests use small caps to exercise tiling).</summary>
    internal static PackedBits Apply(PackedBits input, long outputLength, PackedBits seed, long maxProductBits)
    {
        Validate(input, outputLength, seed);
        if (maxProductBits < 4096) throw new ArgumentOutOfRangeException(nameof(maxProductBits), maxProductBits, "The product cap must be at least 4096 bits.");
        long n = input.Length, l = outputLength;
        var output = new PackedBits(l);
        ReadOnlySpan<ulong> x = input.Words;
        ReadOnlySpan<ulong> s = seed.Words;
        Span<ulong> y = output.Words;

        (long pieceBits, long outputTileBits) = Tiling(n, l, maxProductBits);
        for (long i0 = 0; i0 < l; i0 += outputTileBits)
        {
            long tile = Math.Min(outputTileBits, l - i0);
            for (long o = 0; o < n; o += pieceBits)
            {
                long len = Math.Min(pieceBits, n - o);
                // y[i0 + t] += sum_j' x[o + j'] s[i0 + t + n - 1 - o - j'], t < tile, j' < len: the seed window starts at
                // n - o - len + i0 and the wanted product bits start at len - 1.
                Gf2Polynomial.XorProductBits(x, o, len, s, n - o - len + i0, tile + len - 1, len - 1, tile,
                    y[(int)(i0 >> 6)..]);
            }
        }
        return output;
    }

    /// <summary>
    /// The O(n*l) reference: each output bit is the parity of the input ANDed with its matrix row. Row i, read from
    /// j = n-1 down to 0, is the seed window s[i .. i+n-1]; so y_i is the inner product of the reversed input with that window.
    /// </summary>
    public static PackedBits ApplyNaive(PackedBits input, long outputLength, PackedBits seed)
    {
        Validate(input, outputLength, seed);
        long n = input.Length;
        var reversed = new PackedBits(n);
        for (long j = 0; j < n; j++)
            if (input[j]) reversed[n - 1 - j] = true;
        ReadOnlySpan<ulong> r = reversed.Words;
        ReadOnlySpan<ulong> s = seed.Words;
        var output = new PackedBits(outputLength);
        for (long i = 0; i < outputLength; i++)
        {
            int parity = 0;
            for (int w = 0; w < r.Length; w++)
                parity ^= BitOperations.PopCount(r[w] & WordOps.Read64(s, i + 64L * w, i + n)) & 1;
            if (parity != 0) output[i] = true;
        }
        reversed.Clear();
        return output;
    }

    private static void Validate(PackedBits input, long outputLength, PackedBits seed)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(seed);
        if (input.Length < 1)
            throw new ArgumentException("Privacy amplification needs at least one input bit.", nameof(input));
        if (outputLength < 1 || outputLength > input.Length)
            throw new ArgumentOutOfRangeException(nameof(outputLength), outputLength,
                $"The output length must lie in [1, {input.Length}] (the input length).");
        long expected = input.Length + outputLength - 1;
        if (seed.Length != expected)
            throw new ArgumentException(
                $"A {outputLength} x {input.Length} Toeplitz matrix needs a seed of n + l - 1 = {expected} bits, got {seed.Length}.",
                nameof(seed));
    }

    /// <summary>How many input bits and output bits each product covers (output tiles are whole words).</summary>
    private static (long PieceBits, long OutputTileBits) Tiling(long n, long l, long maxProductBits)
    {
        if (l <= ShortOutputBits && 4 * l < n)
        {
            // Short output: pieces of a few l input bits make each product a small Karatsuba, and the total work
            // (n / l products of l-bit operands) well below that of one n-bit product.
            return (Math.Max(2 * l, 2048), l);
        }
        if (2 * n + l <= maxProductBits) return (n, l);

        long tile = Math.Min(l, maxProductBits / 2 / 64 * 64);
        long piece = (maxProductBits - tile) / 2;
        long pieces = (n + piece - 1) / piece;
        return ((n + pieces - 1) / pieces, tile);
    }
}
