using Qkd.Core.Random;

namespace Qkd.Core.Tests.Entropy;

/// <summary>Seeded sample streams: a good source, a stuck one and a biased one, packed as the monitor reads them.</summary>
internal static class TestSources
{
    /// <summary><paramref name="bytes"/> bytes from xoshiro256** with <paramref name="seed"/>: full-entropy bits and bytes as far as these tests can tell.</summary>
    public static byte[] Good(int bytes, ulong seed)
    {
        var data = new byte[bytes];
        ((IRandomSource)new Xoshiro256StarStar(seed)).Fill(data);
        return data;
    }

    /// <summary>Bits that are 1 with probability <paramref name="probabilityOfOne"/>, independently, packed least significant first.</summary>
    public static byte[] Biased(int bytes, double probabilityOfOne, ulong seed)
    {
        var random = new Xoshiro256StarStar(seed);
        var data = new byte[bytes];
        for (int i = 0; i < bytes; i++)
            for (int bit = 0; bit < 8; bit++)
                if (random.NextDouble() < probabilityOfOne) data[i] |= (byte)(1 << bit);
        return data;
    }

    /// <summary>Sample <paramref name="i"/> of <paramref name="data"/> as the monitor reads it.</summary>
    public static int Sample(byte[] data, EntropySampleKind kind, long i) =>
        kind == EntropySampleKind.Binary ? (data[i >> 3] >> (int)(i & 7)) & 1 : data[i];

    public static long Samples(byte[] data, EntropySampleKind kind) => kind == EntropySampleKind.Binary ? data.Length * 8L : data.Length;
}
