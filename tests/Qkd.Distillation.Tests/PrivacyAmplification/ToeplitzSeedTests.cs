using Qkd.Core.Bits;
using Qkd.Core.Random;
using Qkd.Distillation.PrivacyAmplification;

namespace Qkd.Distillation.Tests.PrivacyAmplification;

public class ToeplitzSeedTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(20, 5)]
    [InlineData(60, 10)]   // 69 bits: a word and five bits
    [InlineData(64, 1)]    // exactly one word
    [InlineData(1_000_000, 288_000)]
    public void Every_seed_bit_comes_from_the_random_source_word_by_word(long n, long l)
    {
        var source = new Xoshiro256StarStar(11);
        var seed = ToeplitzSeed.Draw(source, n, l);
        Assert.Equal(n + l - 1, seed.Length);

        // The source's 64-bit values in order, one per word (little-endian: bit k of the value is bit 64w + k), the
        // last word cut to the seed's length; nothing is stretched, hashed or skipped.
        var reference = new Xoshiro256StarStar(11);
        Span<ulong> words = seed.Words;
        int tail = (int)(seed.Length & 63);
        for (int w = 0; w < words.Length; w++)
        {
            ulong expected = reference.NextUInt64();
            if (w == words.Length - 1 && tail != 0) expected &= (1UL << tail) - 1;
            Assert.Equal(expected, words[w]);
        }
        // Exactly one draw per word: the source's next value is the reference's next one.
        Assert.Equal(reference.NextUInt64(), source.NextUInt64());
    }

    [Fact]
    public void Consecutive_seeds_are_fresh_and_unbiased()
    {
        var random = new Xoshiro256StarStar(3);
        var a = ToeplitzSeed.Draw(random, 80_000, 20_001);
        var b = ToeplitzSeed.Draw(random, 80_000, 20_001);
        Assert.Equal(100_000, a.Length);
        Assert.InRange(a.HammingDistance(b), 48_000, 52_000);
        Assert.InRange(a.PopCount(), 48_000, 52_000);
    }

    [Fact]
    public void The_length_is_n_plus_l_minus_1_for_valid_sizes_only()
    {
        Assert.Equal(8_388_608 + 2_415_720 - 1, ToeplitzSeed.Length(8_388_608, 2_415_720));
        var random = new Xoshiro256StarStar(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => ToeplitzSeed.Draw(random, 10, 11));
        Assert.Throws<ArgumentOutOfRangeException>(() => ToeplitzSeed.Draw(random, 10, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ToeplitzSeed.Draw(random, 0, 0));
        Assert.Throws<ArgumentNullException>(() => ToeplitzSeed.Draw(null!, 10, 5));
    }

    [Fact]
    public void A_drawn_seed_fits_the_hash_of_its_sizes()
    {
        var random = new Xoshiro256StarStar(5);
        var input = RandomWords.Bits(1000, 6);
        var seed = ToeplitzSeed.Draw(random, 1000, 300);
        Assert.True(ToeplitzHash.Apply(input, 300, seed).ContentEquals(ToeplitzHash.ApplyNaive(input, 300, seed)));
    }
}
