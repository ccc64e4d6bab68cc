using Qkd.Core.Bits;
using Qkd.Core.Random;

namespace Qkd.Distillation.Tests.PrivacyAmplification;

/// <summary>Seeded random operands for the binary-polynomial tests.</summary>
internal static class RandomWords
{
    public static ulong[] Words(int count, ulong seed)
    {
        var random = new Xoshiro256StarStar(seed);
        var words = new ulong[count];
        for (int i = 0; i < count; i++) words[i] = random.NextUInt64();
        return words;
    }

    public static PackedBits Bits(long length, ulong seed) =>
        PackedBits.FromWords(Words(PackedBits.WordCount(length), seed), length);
}
