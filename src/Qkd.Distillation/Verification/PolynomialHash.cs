using System.Runtime.CompilerServices;
using Qkd.Core.Bits;
using Qkd.Core.Random;

namespace Qkd.Distillation.Verification;

/// <summary>
/// Key verification after error correction: both ends hash their corrected key with the same randomly chosen member
/// of an almost-universal family and compare tags; equal tags mean the keys are identical except with probability at
/// most <see cref="CollisionBound"/> (the epsilon_cor of the security statement).
/// <para>
/// The family is polynomial evaluation over the prime field F_p, p = 2^61 - 1. A message of L bits is cut into
/// c = ceil(L / 56) chunks of 56 bits (chunk i is bits 56i .. 56i+55, bit 56i least significant; the last chunk is
/// zero-padded), each an element of F_p. With a key k in [1, p-1] the lane tag is
/// H_k(M) = L k^c + m_0 k^(c-1) + m_1 k^(c-2) + ... + m_(c-1)  (mod p),
/// computed by Horner's rule. Prefixing the bit length makes the hash length-safe: messages that differ only by
/// trailing zero bits have different L. For two different messages of at most c chunks, H_k(M) - H_k(M') is a nonzero
/// polynomial in k of degree at most c, so it vanishes for at most c of the p - 1 keys: the collision probability of
/// one lane is at most c / (p - 1), which <see cref="CollisionBound"/> rounds up to (c + 1) / (p - 1). Lanes use
/// independent keys, so their bounds multiply; each lane discloses <see cref="BitsPerLane"/> bits.
/// </para>
/// </summary>
public static class PolynomialHash
{
    /// <summary>Bits of one lane's tag (an element of F_p, p = 2^61 - 1).</summary>
    public const int BitsPerLane = 61;

    /// <summary>The field modulus 2^61 - 1 (a Mersenne prime, so reduction is a shift and an add).</summary>
    public const ulong Modulus = (1UL << 61) - 1;

    /// <summary>Message bits per field element.</summary>
    public const int ChunkBits = 56;

    private const ulong ChunkMask = (1UL << ChunkBits) - 1;

    /// <summary>Upper limit on lanes (a protocol-level sanity bound; realistic epsilons need 2 or 3).</summary>
    public const int MaxLanes = 64;

    /// <summary>
    /// The smallest lane count whose collision bound is at most <paramref name="epsCor"/> and whose tag has at least
    /// <paramref name="minimumTagBits"/> bits.
    /// </summary>
    public static int LanesFor(long messageBits, double epsCor, int minimumTagBits = 64)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(messageBits);
        ArgumentOutOfRangeException.ThrowIfNegative(minimumTagBits);
        if (!(epsCor > 0 && epsCor < 1))
            throw new ArgumentOutOfRangeException(nameof(epsCor), epsCor, "The correctness parameter must lie in (0, 1).");
        int lanes = Math.Max(1, (minimumTagBits + BitsPerLane - 1) / BitsPerLane);
        // Compare in logarithms: for many lanes the bound itself underflows a double.
        double logPerLane = Math.Log(PerLaneBound(messageBits));
        double logEps = Math.Log(epsCor);
        while (lanes * logPerLane > logEps)
        {
            lanes++;
            if (lanes > MaxLanes)
                throw new ArgumentOutOfRangeException(nameof(epsCor), epsCor,
                    $"More than {MaxLanes} hash lanes would be needed for epsilon_cor = {epsCor} on {messageBits} bits.");
        }
        return lanes;
    }

    /// <summary>Collision probability bound ((c + 1) / (p - 1))^lanes, c = number of 56-bit chunks of the message.</summary>
    public static double CollisionBound(long messageBits, int lanes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(messageBits);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(lanes);
        return Math.Pow(PerLaneBound(messageBits), lanes);
    }

    /// <summary>Number of field-element chunks a message of <paramref name="messageBits"/> bits is cut into.</summary>
    public static long ChunkCount(long messageBits) => (messageBits + ChunkBits - 1) / ChunkBits;

    /// <summary>One tag per lane key; every key must lie in [1, p - 1].</summary>
    public static ulong[] ComputeTag(PackedBits message, ReadOnlySpan<ulong> laneKeys)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (laneKeys.Length == 0) throw new ArgumentException("At least one lane key is needed.", nameof(laneKeys));
        for (int i = 0; i < laneKeys.Length; i++)
        {
            if (laneKeys[i] == 0 || laneKeys[i] >= Modulus)
                throw new ArgumentOutOfRangeException(nameof(laneKeys), laneKeys[i], $"Lane key {i} must lie in [1, 2^61 - 2].");
        }

        var tags = new ulong[laneKeys.Length];
        // Lanes go in pairs so that two independent Horner chains overlap in the multiplier.
        int lane = 0;
        for (; lane + 2 <= laneKeys.Length; lane += 2)
            HornerPair(message, laneKeys[lane], laneKeys[lane + 1], out tags[lane], out tags[lane + 1]);
        if (lane < laneKeys.Length)
            HornerPair(message, laneKeys[lane], laneKeys[lane], out tags[lane], out _);
        return tags;
    }

    /// <summary><paramref name="lanes"/> independent keys uniform on [1, p - 1].</summary>
    public static ulong[] DrawKeys(IRandomSource random, int lanes)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (lanes < 1 || lanes > MaxLanes)
            throw new ArgumentOutOfRangeException(nameof(lanes), lanes, $"Lane count must lie in [1, {MaxLanes}].");
        var keys = new ulong[lanes];
        for (int i = 0; i < lanes; i++)
        {
            ulong k;
            do k = random.NextUInt64() >> 3; // uniform on [0, 2^61); reject 0 and p
            while (k == 0 || k == Modulus);
            keys[i] = k;
        }
        return keys;
    }

    private static double PerLaneBound(long messageBits) => (ChunkCount(messageBits) + 1.0) / (Modulus - 1);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void HornerPair(PackedBits message, ulong k0, ulong k1, out ulong tag0, out ulong tag1)
    {
        long length = message.Length;
        ReadOnlySpan<ulong> words = message.Words;
        ulong h0 = (ulong)length, h1 = (ulong)length; // L < 2^37 < p
        long chunks = ChunkCount(length);
        long chunk = 0;

        // Eight 56-bit chunks are exactly seven words; take those groups straight from the words.
        int w = 0;
        for (; chunk + 8 <= chunks && w + 7 <= words.Length; chunk += 8, w += 7)
        {
            ulong w0 = words[w], w1 = words[w + 1], w2 = words[w + 2], w3 = words[w + 3];
            ulong w4 = words[w + 4], w5 = words[w + 5], w6 = words[w + 6];
            Step(ref h0, ref h1, k0, k1, w0 & ChunkMask);
            Step(ref h0, ref h1, k0, k1, ((w0 >> 56) | (w1 << 8)) & ChunkMask);
            Step(ref h0, ref h1, k0, k1, ((w1 >> 48) | (w2 << 16)) & ChunkMask);
            Step(ref h0, ref h1, k0, k1, ((w2 >> 40) | (w3 << 24)) & ChunkMask);
            Step(ref h0, ref h1, k0, k1, ((w3 >> 32) | (w4 << 32)) & ChunkMask);
            Step(ref h0, ref h1, k0, k1, ((w4 >> 24) | (w5 << 40)) & ChunkMask);
            Step(ref h0, ref h1, k0, k1, ((w5 >> 16) | (w6 << 48)) & ChunkMask);
            Step(ref h0, ref h1, k0, k1, w6 >> 8);
        }
        for (; chunk < chunks; chunk++)
            Step(ref h0, ref h1, k0, k1, ReadChunk(words, chunk * ChunkBits, length));

        tag0 = Normalize(h0);
        tag1 = Normalize(h1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step(ref ulong h0, ref ulong h1, ulong k0, ulong k1, ulong m)
    {
        h0 = MultiplyPartial(h0, k0) + m;
        h1 = MultiplyPartial(h1, k1) + m;
    }

    /// <summary>
    /// a*b folded to below 2^61 + 8, for a &lt; 2^62 and b &lt; 2^61. 2^61 = 1 mod p, so the bits above bit 61 of the
    /// product add back at the bottom; two folds suffice. The result stays congruent to a*b mod p.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong MultiplyPartial(ulong a, ulong b)
    {
        ulong hi = Math.BigMul(a, b, out ulong lo);
        ulong r = (lo & Modulus) + ((lo >> 61) | (hi << 3)); // < 2^61 + 2^62
        return (r & Modulus) + (r >> 61);                   // < 2^61 + 4
    }

    private static ulong Normalize(ulong h)
    {
        ulong r = (h & Modulus) + (h >> 61);
        return r >= Modulus ? r - Modulus : r;
    }

    /// <summary>The 56 bits at <paramref name="bit"/>, zero past <paramref name="limit"/>.</summary>
    private static ulong ReadChunk(ReadOnlySpan<ulong> words, long bit, long limit)
    {
        int word = (int)(bit >> 6);
        int shift = (int)(bit & 63);
        ulong value = words[word] >> shift;
        if (shift > 64 - ChunkBits && word + 1 < words.Length)
            value |= words[word + 1] << (64 - shift);
        value &= ChunkMask;
        long available = limit - bit;
        return available >= ChunkBits ? value : value & ((1UL << (int)available) - 1);
    }
}
