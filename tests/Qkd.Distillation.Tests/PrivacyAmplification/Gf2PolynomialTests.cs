using CsCheck;
using Qkd.Distillation.PrivacyAmplification;

namespace Qkd.Distillation.Tests.PrivacyAmplification;

public class Gf2PolynomialTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 3000)]
    [InlineData(12, 13)]
    [InlineData(13, 13)]
    [InlineData(63, 200)]
    [InlineData(255, 256)]
    [InlineData(256, 256)]
    [InlineData(767, 768)]
    [InlineData(768, 768)]
    [InlineData(769, 2000)]
    [InlineData(1500, 1500)]
    [InlineData(2500, 800)]
    public void Multiply_equals_schoolbook_at_the_path_boundaries(int aWords, int bWords)
    {
        ulong[] a = RandomWords.Words(aWords, (ulong)aWords * 7919);
        ulong[] b = RandomWords.Words(bWords, (ulong)bWords * 104729 + 1);
        var expected = new ulong[aWords + bWords];
        var actual = new ulong[aWords + bWords];
        Gf2Polynomial.MultiplySchoolbook(a, b, expected);
        Gf2Polynomial.Multiply(a, b, actual);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Multiply_equals_schoolbook_for_random_sizes()
    {
        Gen.Select(Gen.Int[0, 1200], Gen.Int[0, 1200], Gen.ULong).Sample((aWords, bWords, seed) =>
        {
            ulong[] a = RandomWords.Words(aWords, seed);
            ulong[] b = RandomWords.Words(bWords, seed ^ 0x5555);
            var expected = new ulong[aWords + bWords];
            var actual = new ulong[aWords + bWords];
            Gf2Polynomial.MultiplySchoolbook(a, b, expected);
            Gf2Polynomial.Multiply(a, b, actual);
            return expected.AsSpan().SequenceEqual(actual);
        }, iter: 60);
    }

    [Fact]
    public void Schoolbook_matches_bit_by_bit_definition()
    {
        Gen.Select(Gen.Int[1, 4], Gen.Int[1, 4], Gen.ULong).Sample((aWords, bWords, seed) =>
        {
            ulong[] a = RandomWords.Words(aWords, seed);
            ulong[] b = RandomWords.Words(bWords, ~seed);
            var expected = new ulong[aWords + bWords];
            for (int i = 0; i < 64 * aWords; i++)
                for (int j = 0; j < 64 * bWords; j++)
                    if (((a[i >> 6] >> (i & 63)) & (b[j >> 6] >> (j & 63)) & 1) != 0)
                        expected[(i + j) >> 6] ^= 1UL << ((i + j) & 63);
            var actual = new ulong[aWords + bWords];
            Gf2Polynomial.MultiplySchoolbook(a, b, actual);
            return expected.AsSpan().SequenceEqual(actual);
        }, iter: 40);
    }

    [Fact]
    public void Operands_too_long_for_one_transform_are_multiplied_piecewise()
    {
        // The cap is 2^21 words in production; a cap of 1000 words exercises the same piece arithmetic.
        ulong[] a = RandomWords.Words(3500, 5);
        ulong[] b = RandomWords.Words(2100, 6);
        var expected = new ulong[5600];
        var actual = new ulong[5600];
        Gf2Polynomial.MultiplySchoolbook(a, b, expected);
        Gf2Polynomial.Multiply(a, b, actual, maxPieceWords: 1000);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Multiply_clears_words_past_the_product()
    {
        ulong[] a = RandomWords.Words(900, 1);
        ulong[] b = RandomWords.Words(1000, 2);
        var product = new ulong[2000];
        product.AsSpan().Fill(ulong.MaxValue);
        Gf2Polynomial.Multiply(a, b, product);
        var expected = new ulong[2000];
        Gf2Polynomial.MultiplySchoolbook(a, b, expected);
        Assert.Equal(expected, product);
    }

    [Fact]
    public void Multiply_rejects_a_short_or_overlapping_product()
    {
        var a = new ulong[4];
        var b = new ulong[5];
        var e = Assert.Throws<ArgumentException>(() => Gf2Polynomial.Multiply(a, b, new ulong[8]));
        Assert.Contains("9 words", e.Message);
        var shared = new ulong[20];
        Assert.Throws<ArgumentException>(() => Gf2Polynomial.Multiply(shared.AsSpan(0, 4), b, shared.AsSpan(2, 10)));
    }

    [Fact]
    public void Fft_product_of_unaligned_bit_ranges_matches_schoolbook_in_both_kernels()
    {
        // Operands are arbitrary bit windows of larger arrays; the product bits are requested from an arbitrary start.
        Gen.Select(Gen.Long[1, 70_000], Gen.Long[1, 70_000], Gen.Int[0, 63], Gen.Int[0, 63], Gen.ULong).Sample(
            (aBits, bBits, aOffset, bOffset, seed) =>
            {
                ulong[] aSource = RandomWords.Words((int)((aBits + aOffset + 63) / 64) + 1, seed);
                ulong[] bSource = RandomWords.Words((int)((bBits + bOffset + 63) / 64) + 1, seed + 1);
                var a = new ulong[(aBits + 63) / 64];
                var b = new ulong[(bBits + 63) / 64];
                for (long i = 0; i < aBits; i++) a[i >> 6] |= ((aSource[(i + aOffset) >> 6] >> (int)((i + aOffset) & 63)) & 1) << (int)(i & 63);
                for (long i = 0; i < bBits; i++) b[i >> 6] |= ((bSource[(i + bOffset) >> 6] >> (int)((i + bOffset) & 63)) & 1) << (int)(i & 63);
                var full = new ulong[a.Length + b.Length];
                Gf2Polynomial.MultiplySchoolbook(a, b, full);

                long start = (long)(seed % (ulong)(aBits + bBits));
                long count = aBits + bBits - 1 - start;
                foreach (FftKernel kernel in FftKernels.Supported)
                {
                    var got = new ulong[(count + 63) / 64 + 1];
                    FftPolynomialMultiplier.MultiplyBitRange(aSource, aOffset, aBits, bSource, bOffset, bBits, start, count, got, kernel);
                    for (long i = 0; i < count; i++)
                    {
                        long p = start + i;
                        if (((got[i >> 6] >> (int)(i & 63)) & 1) != ((full[p >> 6] >> (int)(p & 63)) & 1)) return false;
                    }
                    for (long i = count; i < 64L * got.Length; i++)
                        if (((got[i >> 6] >> (int)(i & 63)) & 1) != 0) return false; // nothing written past the range
                }
                return true;
            }, iter: 25);
    }

    [Fact]
    public void Bit_range_products_reject_ranges_outside_their_operands()
    {
        var words = new ulong[4];
        var destination = new ulong[8];
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            Gf2Polynomial.XorProductBits(words, 200, 100, words, 0, 256, 0, 10, destination));
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            Gf2Polynomial.XorProductBits(words, 0, 256, words, 0, 256, 500, 100, destination));
        Assert.Throws<ArgumentException>(() =>
            FftPolynomialMultiplier.MultiplyBitRange(words, 0, 256, words, 0, 256, 0, 512, new ulong[7], FftKernel.Portable));
    }

    [Fact]
    public void Software_carryless_product_matches_the_bit_loop_and_the_hardware()
    {
        Gen.Select(Gen.ULong, Gen.ULong).Sample((a, b) =>
        {
            ulong lo = 0, hi = 0;
            for (int i = 0; i < 64; i++)
            {
                if (((a >> i) & 1) == 0) continue;
                lo ^= b << i;
                if (i != 0) hi ^= b >> (64 - i);
            }
            ulong swLo = CarrylessMultiply.MultiplySoftware(a, b, out ulong swHi);
            ulong hwLo = CarrylessMultiply.Multiply(a, b, out ulong hwHi);
            return swLo == lo && swHi == hi && hwLo == lo && hwHi == hi;
        }, iter: 2000);
    }
}
