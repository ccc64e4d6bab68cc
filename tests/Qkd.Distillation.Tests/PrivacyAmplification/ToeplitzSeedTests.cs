using System.Security.Cryptography;
using Qkd.Core.Bits;
using Qkd.Distillation.PrivacyAmplification;

namespace Qkd.Distillation.Tests.PrivacyAmplification;

public class ToeplitzSeedTests
{
    private static byte[] Seed(byte fill)
    {
        var seed = new byte[32];
        for (int i = 0; i < seed.Length; i++) seed[i] = (byte)(fill + 3 * i);
        return seed;
    }

    [Fact]
    public void Expansion_is_deterministic()
    {
        var a = ToeplitzSeed.Expand(Seed(1), 1_000_003);
        var b = ToeplitzSeed.Expand(Seed(1), 1_000_003);
        Assert.True(a.ContentEquals(b));
        Assert.Equal(1_000_003, a.Length);
    }

    [Fact]
    public void Different_seeds_give_different_unbiased_streams()
    {
        var a = ToeplitzSeed.Expand(Seed(1), 100_000);
        var b = ToeplitzSeed.Expand(Seed(2), 100_000);
        long distance = a.HammingDistance(b);
        Assert.InRange(distance, 48_000, 52_000); // independent streams differ in about half the bits
        Assert.InRange(a.PopCount(), 48_000, 52_000);
    }

    [Fact]
    public void Shorter_expansion_is_a_prefix_and_tail_bits_are_clear()
    {
        var longer = ToeplitzSeed.Expand(Seed(9), 200_000);
        foreach (long length in new long[] { 0, 1, 7, 8, 127, 128, 129, 65_537, 199_999 })
        {
            var shorter = ToeplitzSeed.Expand(Seed(9), length);
            Assert.True(shorter.ContentEquals(longer.Slice(0, length)), $"length {length}");
        }
    }

    [Fact]
    public void Stream_is_AES256_of_big_endian_counter_blocks()
    {
        byte[] key = Seed(5);
        var bits = ToeplitzSeed.Expand(key, 16 * 8 * 4097); // crosses the batch boundary of 4096 blocks
        using var aes = Aes.Create();
        aes.Key = key;
        foreach (ulong block in new ulong[] { 0, 1, 4095, 4096 })
        {
            var counter = new byte[16];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(counter.AsSpan(8), block);
            byte[] expected = aes.EncryptEcb(counter, PaddingMode.None);
            byte[] actual = bits.Slice((long)block * 128, 128).ToBytes();
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public void Seed_must_be_32_bytes()
    {
        var e = Assert.Throws<ArgumentException>(() => ToeplitzSeed.Expand(new byte[16], 100));
        Assert.Contains("32", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ToeplitzSeed.Expand(new byte[32], -1));
    }
}
