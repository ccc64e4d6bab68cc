using Qkd.Core.Bits;
using Qkd.Core.Random;

namespace Qkd.Distillation.Tests.ErrorCorrection.Ldpc;

/// <summary>Seeded frames: Alice's random bits and Bob's copy with exactly round(q n) errors at random places.</summary>
internal static class LdpcFrames
{
    public static (PackedBits Alice, PackedBits Bob, int Errors) Noisy(int bits, double qber, ulong seed)
    {
        var random = new Xoshiro256StarStar(seed);
        var words = new ulong[PackedBits.WordCount(bits)];
        for (int i = 0; i < words.Length; i++) words[i] = random.NextUInt64();
        var alice = PackedBits.FromWords(words, bits);
        var bob = alice.Clone();
        int errors = (int)Math.Round(qber * bits);
        var flipped = new HashSet<int>();
        while (flipped.Count < errors) flipped.Add((int)(random.NextUInt64() % (ulong)bits));
        foreach (int i in flipped) bob.Flip(i);
        return (alice, bob, errors);
    }
}
