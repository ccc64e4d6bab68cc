using Qkd.Core.Bits;
using Qkd.Distillation.PrivacyAmplification;

namespace Qkd.Distillation.Tests.PrivacyAmplification;

/// <summary>
/// Two-universality of the production Toeplitz hash, exhaustively on small sizes: for every pair of distinct inputs,
/// the fraction of all 2^(n+l-1) seeds under which they collide. The leftover hash lemma needs it to be at most 2^-l;
/// for Toeplitz matrices it is exactly 2^-l. Counted by hashing every input under every seed through
/// <see cref="ToeplitzHash.Apply(PackedBits, long, PackedBits)"/> itself, not through a model of it.
/// </summary>
public class ToeplitzUniversalityTests
{
    public static TheoryData<int, int> SmallSizes()
    {
        var sizes = new TheoryData<int, int>();
        for (int n = 2; n <= 8; n++)
            for (int l = 1; l <= Math.Min(4, n); l++)
                sizes.Add(n, l); // at most 8 + 4 - 1 = 11 seed bits
        return sizes;
    }

    [Theory]
    [MemberData(nameof(SmallSizes))]
    public void Every_pair_of_distinct_inputs_collides_under_exactly_a_2_to_the_minus_l_fraction_of_seeds(int n, int l)
    {
        int seedBits = n + l - 1;
        var seeds = Enumerable.Range(0, 1 << seedBits).Select(s => Bits((ulong)s, seedBits));
        int[,] collisions = CountCollisions(n, l, seeds);

        int expected = (1 << seedBits) >> l; // 2^-l of all seeds
        var wrong = new List<string>();
        for (int x = 0; x < 1 << n; x++)
            for (int y = x + 1; y < 1 << n; y++)
                if (collisions[x, y] != expected && wrong.Count < 10)
                    wrong.Add($"x = {x}, y = {y}: {collisions[x, y]} of {1 << seedBits} seeds");
        Assert.True(wrong.Count == 0, $"n = {n}, l = {l}: pairs colliding under other than {expected} seeds: {string.Join("; ", wrong)}");
    }

    /// <summary>
    /// The same count over a family stretched from a short key, as the retired AES expansion did at scale: 8 matrices
    /// (a 3-bit key repeated across the 11 seed bits) for l = 4. Some pair must collide under at least 1/8 &gt; 2^-4 of
    /// them, and the test sees it: the check above does tell a two-universal family from one that is not.
    /// </summary>
    [Fact]
    public void A_family_from_a_shorter_key_is_not_two_universal()
    {
        const int n = 8, l = 4, seedBits = n + l - 1, keyBits = 3;
        var seeds = Enumerable.Range(0, 1 << keyBits).Select(key =>
        {
            ulong stretched = 0;
            for (int i = 0; i < seedBits; i++) stretched |= (ulong)((key >> (i % keyBits)) & 1) << i;
            return Bits(stretched, seedBits);
        });
        int[,] collisions = CountCollisions(n, l, seeds);

        int worst = 0;
        for (int x = 0; x < 1 << n; x++)
            for (int y = x + 1; y < 1 << n; y++)
                worst = Math.Max(worst, collisions[x, y]);
        // Collision probability worst / 8 against the 1/16 a two-universal family guarantees.
        Assert.True(worst * 16 > 8, $"the worst pair collides under {worst} of 8 seeds");
    }

    /// <summary>collisions[x, y] (x &lt; y): under how many of <paramref name="seeds"/> the hash maps x and y alike.</summary>
    private static int[,] CountCollisions(int n, int l, IEnumerable<PackedBits> seeds)
    {
        int inputs = 1 << n;
        var inputBits = Enumerable.Range(0, inputs).Select(x => Bits((ulong)x, n)).ToArray();
        var collisions = new int[inputs, inputs];
        var outputs = new ulong[inputs];
        foreach (var seed in seeds)
        {
            for (int x = 0; x < inputs; x++)
            {
                var output = ToeplitzHash.Apply(inputBits[x], l, seed);
                Assert.Equal(l, output.Length);
                outputs[x] = output.Words[0];
            }
            for (int x = 0; x < inputs; x++)
                for (int y = x + 1; y < inputs; y++)
                    if (outputs[x] == outputs[y]) collisions[x, y]++;
        }
        return collisions;
    }

    private static PackedBits Bits(ulong value, int length) => PackedBits.FromWords([value], length);
}
