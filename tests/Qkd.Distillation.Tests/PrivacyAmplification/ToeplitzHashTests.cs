using CsCheck;
using Qkd.Core.Bits;
using Qkd.Distillation.PrivacyAmplification;

namespace Qkd.Distillation.Tests.PrivacyAmplification;

public class ToeplitzHashTests
{
    public static TheoryData<long> BoundaryLengths() =>
        [1, 2, 3, 31, 63, 64, 65, 127, 128, 129, 191, 192, 193, 500, 1000, 2047, 2048, 2049, 2999, 3000];

    [Theory]
    [MemberData(nameof(BoundaryLengths))]
    public void Fast_hash_equals_naive_hash_at_word_boundaries(long n)
    {
        var lengths = new SortedSet<long> { 1, 2, 63, 64, 65, n / 3, n / 2, n - 64, n - 63, n - 1, n };
        foreach (long l in lengths.Where(l => l >= 1 && l <= n))
        {
            var input = RandomWords.Bits(n, (ulong)(n * 1000 + l));
            var seed = RandomWords.Bits(n + l - 1, (ulong)(n * 7 + l * 13 + 5));
            var fast = ToeplitzHash.Apply(input, l, seed);
            var naive = ToeplitzHash.ApplyNaive(input, l, seed);
            Assert.True(fast.ContentEquals(naive), $"n = {n}, l = {l}");
        }
    }

    [Fact]
    public void Fast_hash_equals_naive_hash_for_random_sizes()
    {
        Gen.Select(Gen.Long[1, 3000], Gen.Double[0, 1], Gen.ULong).Sample((n, fraction, seed) =>
        {
            long l = Math.Clamp((long)Math.Ceiling(fraction * n), 1, n);
            var input = RandomWords.Bits(n, seed);
            var matrixSeed = RandomWords.Bits(n + l - 1, seed ^ 0xABCDEF);
            return ToeplitzHash.Apply(input, l, matrixSeed).ContentEquals(ToeplitzHash.ApplyNaive(input, l, matrixSeed));
        }, iter: 150);
    }

    [Theory]
    [InlineData(120_000, 60_000)]   // one FFT product
    [InlineData(200_000, 300)]      // short output: many small Karatsuba pieces
    [InlineData(40_000, 4096)]      // the largest short output
    [InlineData(40_000, 40_000)]    // square matrix
    public void Fast_hash_equals_naive_hash_on_every_computation_path(long n, long l)
    {
        var input = RandomWords.Bits(n, (ulong)n);
        var seed = RandomWords.Bits(n + l - 1, (ulong)(n + l));
        Assert.True(ToeplitzHash.Apply(input, l, seed).ContentEquals(ToeplitzHash.ApplyNaive(input, l, seed)));
    }

    [Theory]
    [InlineData(30_000, 6_000, 16_384)]  // input pieces only
    [InlineData(30_000, 29_000, 8192)]   // output tiles too
    [InlineData(30_001, 20_003, 20_000)] // odd sizes, uneven last piece and tile
    public void Tiled_computation_for_huge_inputs_matches_the_single_product(long n, long l, long cap)
    {
        var input = RandomWords.Bits(n, 3);
        var seed = RandomWords.Bits(n + l - 1, 4);
        var tiled = ToeplitzHash.Apply(input, l, seed, cap);
        Assert.True(tiled.ContentEquals(ToeplitzHash.Apply(input, l, seed)));
        Assert.True(tiled.ContentEquals(ToeplitzHash.ApplyNaive(input, l, seed)));
    }

    [Fact]
    public void Naive_hash_follows_the_matrix_definition()
    {
        // T[i, j] = s[i - j + n - 1], y_i = XOR_j T[i, j] x_j, written out literally.
        for (long n = 1; n <= 40; n++)
        {
            for (long l = 1; l <= n; l += 3)
            {
                var x = RandomWords.Bits(n, (ulong)(n * 100 + l));
                var s = RandomWords.Bits(n + l - 1, (ulong)(n * 100 + l + 50));
                var y = ToeplitzHash.ApplyNaive(x, l, s);
                for (long i = 0; i < l; i++)
                {
                    int bit = 0;
                    for (long j = 0; j < n; j++) bit ^= s.GetBit(i - j + n - 1) & x.GetBit(j);
                    Assert.Equal(bit, y.GetBit(i));
                }
            }
        }
    }

    [Fact]
    public void Hash_is_linear_in_the_input()
    {
        const long n = 300_000, l = 150_000;
        var seed = RandomWords.Bits(n + l - 1, 11);
        var a = RandomWords.Bits(n, 12);
        var b = RandomWords.Bits(n, 13);
        var sum = a.Clone();
        for (int w = 0; w < sum.Words.Length; w++) sum.Words[w] ^= b.Words[w];
        var ha = ToeplitzHash.Apply(a, l, seed);
        var hb = ToeplitzHash.Apply(b, l, seed);
        var hs = ToeplitzHash.Apply(sum, l, seed);
        for (int w = 0; w < ha.Words.Length; w++) ha.Words[w] ^= hb.Words[w];
        Assert.True(ha.ContentEquals(hs));
        Assert.NotEqual(0, hs.PopCount());
    }

    [Fact]
    public void Seed_of_the_wrong_length_is_rejected_with_the_sizes()
    {
        var input = new PackedBits(100);
        var e = Assert.Throws<ArgumentException>(() => ToeplitzHash.Apply(input, 40, new PackedBits(140)));
        Assert.Contains("139", e.Message);
        Assert.Contains("140", e.Message);
        Assert.Equal("seed", e.ParamName);
        Assert.Throws<ArgumentException>(() => ToeplitzHash.ApplyNaive(input, 40, new PackedBits(138)));
    }

    [Fact]
    public void Output_length_outside_one_to_n_is_rejected()
    {
        var input = new PackedBits(100);
        Assert.Throws<ArgumentOutOfRangeException>(() => ToeplitzHash.Apply(input, 0, new PackedBits(99)));
        Assert.Throws<ArgumentOutOfRangeException>(() => ToeplitzHash.Apply(input, 101, new PackedBits(200)));
        Assert.Throws<ArgumentException>(() => ToeplitzHash.Apply(new PackedBits(0), 1, new PackedBits(0)));
    }
}
