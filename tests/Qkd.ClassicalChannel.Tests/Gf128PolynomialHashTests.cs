using CsCheck;
using System.Security.Cryptography;
using Qkd.ClassicalChannel;

namespace Qkd.ClassicalChannel.Tests;

public sealed class Gf128PolynomialHashTests
{
    [Fact]
    public void Hardware_multiply_equals_the_portable_one()
    {
        var random = new Random(5);
        for (int i = 0; i < 2000; i++)
        {
            ulong a0 = (ulong)random.NextInt64(), a1 = (ulong)random.NextInt64() << 1, b0 = (ulong)random.NextInt64(), b1 = (ulong)random.NextInt64() | (1UL << 63);
            Gf128PolynomialHash.Multiply(a0, a1, b0, b1, out ulong r0, out ulong r1);
            Gf128PolynomialHash.MultiplySoftware(a0, a1, b0, b1, out ulong s0, out ulong s1);
            Assert.Equal((s0, s1), (r0, r1));
        }
    }

    [Fact]
    public void Field_arithmetic_follows_the_modulus()
    {
        // x^127 * x = x^128 = x^7 + x^2 + x + 1.
        Gf128PolynomialHash.MultiplySoftware(0, 1UL << 63, 2, 0, out ulong r0, out ulong r1);
        Assert.Equal((0x87UL, 0UL), (r0, r1));
        // 1 is the identity, multiplication commutes and distributes over XOR.
        var random = new Random(9);
        for (int i = 0; i < 200; i++)
        {
            ulong a0 = (ulong)random.NextInt64(), a1 = (ulong)random.NextInt64(), b0 = (ulong)random.NextInt64(), b1 = (ulong)random.NextInt64();
            ulong c0 = (ulong)random.NextInt64(), c1 = (ulong)random.NextInt64();
            Gf128PolynomialHash.MultiplySoftware(a0, a1, 1, 0, out r0, out r1);
            Assert.Equal((a0, a1), (r0, r1));
            Gf128PolynomialHash.MultiplySoftware(a0, a1, b0, b1, out ulong ab0, out ulong ab1);
            Gf128PolynomialHash.MultiplySoftware(b0, b1, a0, a1, out ulong ba0, out ulong ba1);
            Assert.Equal((ab0, ab1), (ba0, ba1));
            Gf128PolynomialHash.MultiplySoftware(a0, a1, b0 ^ c0, b1 ^ c1, out ulong s0, out ulong s1);
            Gf128PolynomialHash.MultiplySoftware(a0, a1, c0, c1, out ulong ac0, out ulong ac1);
            Assert.Equal((ab0 ^ ac0, ab1 ^ ac1), (s0, s1));
        }
    }

    [Fact]
    public void Tag_changes_with_any_bit_trailing_zeros_and_the_pad()
    {
        byte[] key = RandomNumberGenerator.GetBytes(16), pad = RandomNumberGenerator.GetBytes(16), message = RandomNumberGenerator.GetBytes(100);
        var tag = Tag(key, message, pad);
        for (int bit = 0; bit < message.Length * 8; bit += 7)
        {
            var changed = (byte[])message.Clone();
            changed[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.NotEqual(tag, Tag(key, changed, pad));
        }
        Assert.NotEqual(tag, Tag(key, [.. message, 0], pad)); // the length block
        Assert.NotEqual(tag, Tag(key, message[..99], pad));
        var otherPad = (byte[])pad.Clone();
        otherPad[3] ^= 1;
        Assert.NotEqual(tag, Tag(key, message, otherPad));
        Assert.Equal(tag, Tag(key, message, pad));
    }

    [Fact]
    public void Forgery_bound_counts_blocks_and_length()
    {
        Assert.Equal(6 / Math.Pow(2, 128), Gf128PolynomialHash.ForgeryBound(80)); // 5 blocks + the length block
        Assert.True(Gf128PolynomialHash.ForgeryBound(256L << 20) < Math.Pow(2, -100));
    }

    [Fact]
    public void Zero_and_keys_of_small_order_are_weak_random_keys_are_not()
    {
        Assert.True(Gf128PolynomialHash.IsWeakKey(new byte[16]));
        Assert.True(Gf128PolynomialHash.IsWeakKey(Element(1, 0))); // order 1: H is a plain XOR of the blocks
        // Elements of order 3, 5, 255 and 65537 * 641: g^((2^128 - 1) / d) for a random g has order dividing d.
        UInt128 groupOrder = UInt128.MaxValue;
        foreach (ulong d in new ulong[] { 3, 5, 255, 65537UL * 641 })
        {
            var (g0, g1) = RandomElement();
            UInt128 e = groupOrder / d;
            Gf128PolynomialHash.Power(g0, g1, (ulong)(e >> 64), out ulong h0, out ulong h1);
            for (int i = 0; i < 64; i++) Gf128PolynomialHash.Multiply(h0, h1, h0, h1, out h0, out h1); // ^(2^64)
            Gf128PolynomialHash.Power(g0, g1, (ulong)e, out ulong l0, out ulong l1);
            Gf128PolynomialHash.Multiply(h0, h1, l0, l1, out ulong k0, out ulong k1);
            Gf128PolynomialHash.Power(k0, k1, d, out ulong r0, out ulong r1);
            Assert.Equal((1UL, 0UL), (r0, r1)); // the construction gives order dividing d
            Assert.True(Gf128PolynomialHash.IsWeakKey(Element(k0, k1)), $"an element of order dividing {d} passed");
        }
        Gen.Byte.Array[16].Sample(key => Assert.False(Gf128PolynomialHash.IsWeakKey(key)), iter: 200);
    }

    private static (ulong, ulong) RandomElement()
    {
        var bytes = RandomNumberGenerator.GetBytes(16);
        return (BitConverter.ToUInt64(bytes, 0) | 2, BitConverter.ToUInt64(bytes, 8));
    }

    private static byte[] Element(ulong lo, ulong hi) => [.. BitConverter.GetBytes(lo), .. BitConverter.GetBytes(hi)];

    private static string Tag(byte[] key, byte[] message, byte[] pad)
    {
        var tag = new byte[16];
        Gf128PolynomialHash.ComputeTag(key, message, pad, tag);
        return Convert.ToHexString(tag);
    }
}
