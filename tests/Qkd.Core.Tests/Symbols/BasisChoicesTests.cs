using CsCheck;
using Qkd.Core.Symbols;

namespace Qkd.Core.Tests.Symbols;

/// <summary>Bob's basis choices: bulk bits equal the lookups, the statistics are the configured ones, keys are fresh.</summary>
public class BasisChoicesTests
{
    [Fact]
    public void Bulk_packed_bases_equal_the_bases_looked_up_one_by_one()
    {
        using var secure = BasisChoices.Secure(0.7);
        var seeded = BasisChoices.Seeded(0.3, 99);
        Gen.Select(Gen.Long[0, 1L << 40], Gen.Int[1, 3000]).Sample((first, bytes) =>
        {
            foreach (BasisChoices bases in (BasisChoices[])[secure, seeded])
            {
                var packed = new byte[bytes];
                bases.FillPacked(first, packed);
                for (int i = 0; i < 8 * bytes; i++)
                    Assert.Equal((int)bases.BasisAt(first + i), (packed[i >> 3] >> (i & 7)) & 1);
            }
        }, iter: 60, threads: 1);
    }

    [Fact]
    public void The_share_of_Z_is_the_configured_probability_and_fresh_keys_choose_differently()
    {
        using var a = BasisChoices.Secure(0.7);
        using var b = BasisChoices.Secure(0.7);
        const int slots = 1 << 20;
        var bits = new byte[slots / 8];
        a.FillPacked(0, bits);
        long x = bits.Sum(v => (long)System.Numerics.BitOperations.PopCount(v));
        double shareZ = 1 - (double)x / slots;
        // Binomial standard deviation sqrt(p(1-p)/n) = 4.5e-4: 6 sigma.
        Assert.InRange(shareZ, 0.7 - 0.0027, 0.7 + 0.0027);
        int same = 0;
        for (int i = 0; i < 10_000; i++) if (a.BasisAt(i) == b.BasisAt(i)) same++;
        // Independent choices agree with probability 0.7^2 + 0.3^2 = 0.58 (sd 0.005): far from identical sequences.
        Assert.InRange(same, 5_500, 6_100);
    }

    [Fact]
    public void Disposing_zeroes_the_key_and_refuses_lookups()
    {
        var bases = BasisChoices.Secure(0.5);
        bases.Dispose();
        Assert.Throws<ObjectDisposedException>(() => bases.BasisAt(1));
    }
}
