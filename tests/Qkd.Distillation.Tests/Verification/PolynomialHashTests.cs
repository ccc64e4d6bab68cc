using System.Numerics;
using CsCheck;
using Qkd.Core.Bits;
using Qkd.Core.Random;
using Qkd.Distillation.Tests.PrivacyAmplification;
using Qkd.Distillation.Verification;

namespace Qkd.Distillation.Tests.Verification;

public class PolynomialHashTests
{
    private const ulong P = PolynomialHash.Modulus;

    private static ulong[] Keys(ulong seed, int lanes) => PolynomialHash.DrawKeys(new Xoshiro256StarStar(seed), lanes);

    /// <summary>Independent reference: Horner's rule with BigInteger over [L, m_0, ..., m_(c-1)], chunks read bit by bit.</summary>
    private static ulong Reference(PackedBits message, ulong key)
    {
        BigInteger h = message.Length;
        long chunks = (message.Length + 55) / 56;
        for (long c = 0; c < chunks; c++)
        {
            BigInteger m = 0;
            for (int b = 0; b < 56; b++)
            {
                long i = 56 * c + b;
                if (i < message.Length && message[i]) m |= BigInteger.One << b;
            }
            h = (h * key + m) % P;
        }
        return (ulong)(h % P);
    }

    [Fact]
    public void Tag_matches_the_bigint_reference()
    {
        Gen.Select(Gen.Long[0, 2000], Gen.ULong, Gen.Int[1, 3]).Sample((length, seed, lanes) =>
        {
            var message = RandomWords.Bits(length, seed);
            ulong[] keys = Keys(seed, lanes);
            ulong[] tags = PolynomialHash.ComputeTag(message, keys);
            for (int i = 0; i < lanes; i++)
                if (tags[i] != Reference(message, keys[i])) return false;
            return true;
        }, iter: 200);
    }

    [Fact]
    public void Tag_of_small_messages_is_the_polynomial()
    {
        ulong k = 12345;
        // One bit set: L = 1, c = 1, m_0 = 1: H = 1*k + 1.
        Assert.Equal(k + 1, PolynomialHash.ComputeTag(PackedBits.FromBools([true]), [k])[0]);
        // Empty message: H = L = 0.
        Assert.Equal(0UL, PolynomialHash.ComputeTag(new PackedBits(0), [k])[0]);
        // Largest key: k = p - 1 = -1 mod p, 57 zero bits: c = 2, H = 57 k^2 = 57.
        Assert.Equal(57UL, PolynomialHash.ComputeTag(new PackedBits(57), [P - 1])[0]);
    }

    [Fact]
    public void Equal_messages_give_equal_tags()
    {
        Gen.Select(Gen.Long[0, 20_000], Gen.ULong).Sample((length, seed) =>
        {
            var a = RandomWords.Bits(length, seed);
            var b = a.Clone();
            ulong[] keys = Keys(~seed, 2);
            return PolynomialHash.ComputeTag(a, keys).AsSpan().SequenceEqual(PolynomialHash.ComputeTag(b, keys));
        }, iter: 50);
    }

    [Fact]
    public void Flipping_any_single_bit_changes_the_tag()
    {
        Gen.Select(Gen.Long[1, 20_000], Gen.ULong, Gen.Double[0, 1]).Sample((length, seed, where) =>
        {
            var a = RandomWords.Bits(length, seed);
            var b = a.Clone();
            b.Flip(Math.Min(length - 1, (long)(where * length)));
            ulong[] keys = Keys(seed * 3, 2);
            return !PolynomialHash.ComputeTag(a, keys).AsSpan().SequenceEqual(PolynomialHash.ComputeTag(b, keys));
        }, iter: 300);
    }

    [Fact]
    public void Flipping_two_bits_changes_the_tag()
    {
        Gen.Select(Gen.Long[2, 20_000], Gen.ULong, Gen.Double[0, 1], Gen.Double[0, 1]).Sample((length, seed, u, v) =>
        {
            long i = Math.Min(length - 1, (long)(u * length));
            long j = Math.Min(length - 1, (long)(v * length));
            if (i == j) j = (i + 1) % length;
            var a = RandomWords.Bits(length, seed);
            var b = a.Clone();
            b.Flip(i);
            b.Flip(j);
            ulong[] keys = Keys(seed + 17, 2);
            return !PolynomialHash.ComputeTag(a, keys).AsSpan().SequenceEqual(PolynomialHash.ComputeTag(b, keys));
        }, iter: 300);
    }

    [Fact]
    public void Messages_differing_only_by_trailing_zero_bits_give_different_tags()
    {
        Gen.Select(Gen.Long[0, 5000], Gen.Int[1, 130], Gen.ULong).Sample((length, extra, seed) =>
        {
            var a = RandomWords.Bits(length, seed);
            var padded = new PackedBits(length + extra);
            a.Words.CopyTo(padded.Words);
            ulong[] keys = Keys(seed ^ 99, 1);
            return PolynomialHash.ComputeTag(a, keys)[0] != PolynomialHash.ComputeTag(padded, keys)[0];
        }, iter: 300);
    }

    [Fact]
    public void Collision_bound_is_chunks_plus_one_over_p_minus_one_per_lane()
    {
        long bits = 10_000_000;
        long chunks = (bits + 55) / 56;
        double perLane = (chunks + 1.0) / (P - 1);
        Assert.Equal(perLane, PolynomialHash.CollisionBound(bits, 1), 1e-30);
        Assert.Equal(perLane * perLane, PolynomialHash.CollisionBound(bits, 2), 1e-45);
        Assert.Equal(1.0 / (P - 1), PolynomialHash.CollisionBound(0, 1), 1e-30);
    }

    [Fact]
    public void Lanes_are_the_fewest_meeting_both_the_bound_and_the_tag_size()
    {
        long bits = 10_000_000; // one lane: about 7.7e-14
        Assert.Equal(1, PolynomialHash.LanesFor(bits, 1e-12, minimumTagBits: 0));
        Assert.Equal(2, PolynomialHash.LanesFor(bits, 1e-15, minimumTagBits: 0));
        Assert.Equal(2, PolynomialHash.LanesFor(bits, 1e-15));              // 64 tag bits need 2 lanes anyway
        Assert.Equal(3, PolynomialHash.LanesFor(bits, 1e-30));
        Assert.Equal(3, PolynomialHash.LanesFor(bits, 1e-12, minimumTagBits: 123));
        foreach (double eps in new[] { 1e-9, 1e-15, 1e-25, 1e-40, 1e-100, 1e-300 })
        {
            int lanes = PolynomialHash.LanesFor(bits, eps, minimumTagBits: 0);
            Assert.True(lanes == 1 || Math.Log(PolynomialHash.CollisionBound(bits, lanes - 1)) > Math.Log(eps));
            Assert.True(lanes * Math.Log((PolynomialHash.ChunkCount(bits) + 1.0) / (P - 1)) <= Math.Log(eps));
        }
    }

    [Fact]
    public void Invalid_arguments_are_rejected()
    {
        var message = new PackedBits(10);
        Assert.Throws<ArgumentOutOfRangeException>(() => PolynomialHash.ComputeTag(message, [0UL]));
        Assert.Throws<ArgumentOutOfRangeException>(() => PolynomialHash.ComputeTag(message, [5UL, P]));
        Assert.Throws<ArgumentException>(() => PolynomialHash.ComputeTag(message, ReadOnlySpan<ulong>.Empty));
        Assert.Throws<ArgumentOutOfRangeException>(() => PolynomialHash.LanesFor(10, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => PolynomialHash.LanesFor(10, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => PolynomialHash.LanesFor(-1, 1e-9));
        Assert.Throws<ArgumentOutOfRangeException>(() => PolynomialHash.CollisionBound(10, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => PolynomialHash.DrawKeys(new Xoshiro256StarStar(1), 0));
    }

    [Fact]
    public void Drawn_keys_are_seeded_and_in_range()
    {
        ulong[] a = Keys(42, 64);
        Assert.Equal(a, Keys(42, 64));
        Assert.NotEqual(a, Keys(43, 64));
        Assert.All(a, k => Assert.InRange(k, 1UL, P - 1));
        Assert.Equal(64, a.Distinct().Count());
    }
}
