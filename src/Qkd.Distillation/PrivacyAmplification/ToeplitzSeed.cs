using System.Runtime.InteropServices;
using Qkd.Core.Bits;
using Qkd.Core.Random;

namespace Qkd.Distillation.PrivacyAmplification;

/// <summary>
/// The seed of a block's Toeplitz matrix (<see cref="ToeplitzHash"/>): all n + l - 1 bits that fix an l x n Toeplitz
/// matrix, drawn uniformly and independently by one end from its random source and sent to the other in the clear
/// (<see cref="Messages.AmplificationSeed"/>). Both ends build the matrix from exactly these bits.
/// <para>
/// Why every bit is drawn. The finite-key bound (<see cref="ParameterEstimation.FiniteKeyLength"/>) rests on the
/// leftover hash lemma (Impagliazzo, Levin, Luby 1989; against quantum side information Renner 2005 and Tomamichel,
/// Schaffner, Smith, Renner 2011), which needs the hash to be picked from a two-universal family: for all inputs
/// x != y, Pr over the seed [T x = T y] &lt;= 2^-l. With the seed uniform over all 2^(n+l-1) values, Toeplitz matrices
/// meet this with equality. A seed stretched from a shorter key cannot: a family of K matrices with l &lt; n and
/// l &gt; log2 K fails it, because any one member maps n bits to fewer bits and so has a colliding pair, which then
/// collides with probability at least 1/K &gt; 2^-l. Expanding 256 bits by a cipher (as this class once did with AES-256-CTR)
/// left the secrecy claim only computational; the full seed makes it information-theoretic, as the proof assumes.
/// </para>
/// <para>
/// The seed may be public: the lemma bounds the distance of (hash output, seed, Eve's information) from (uniform,
/// seed, Eve's information), so it needs the seed only to be independent of the key, not secret. It costs the
/// random source n + l - 1 bits per block, and the channel the same in the clear (authenticated: a tag per message,
/// whatever its length).
/// </para>
/// </summary>
public static class ToeplitzSeed
{
    /// <summary>n + l - 1: the seed bits of an l x n Toeplitz matrix (1 &lt;= l &lt;= n).</summary>
    public static long Length(long inputBits, long outputBits)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputBits, 1);
        if (outputBits < 1 || outputBits > inputBits)
            throw new ArgumentOutOfRangeException(nameof(outputBits), outputBits,
                $"The output length must lie in [1, {inputBits}] (the input length).");
        return inputBits + outputBits - 1;
    }

    /// <summary>
    /// Draws the n + l - 1 seed bits of an <paramref name="outputBits"/> x <paramref name="inputBits"/> Toeplitz
    /// matrix from <paramref name="random"/>, straight into the words of the result (whole words from the source;
    /// the unused high bits of the last word are drawn and cleared).
    /// </summary>
    public static PackedBits Draw(IRandomSource random, long inputBits, long outputBits)
    {
        ArgumentNullException.ThrowIfNull(random);
        long length = Length(inputBits, outputBits);
        var seed = new PackedBits(length);
        random.Fill(MemoryMarshal.AsBytes(seed.Words));
        // Keeps PackedBits' invariant that the bits past Length are zero.
        return PackedBits.FromWords(seed.RawWords, length);
    }
}
