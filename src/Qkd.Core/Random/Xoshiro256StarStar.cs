using System.Numerics;

namespace Qkd.Core.Random;

/// <summary>
/// xoshiro256** (Blackman and Vigna 2018): fast, 256-bit state, passes BigCrush. The seeded PRNG behind every
/// emulated or test random choice; state seeded from SplitMix64 as the authors recommend.
/// Not cryptographic: key material never comes from it on real hardware.
/// </summary>
public sealed class Xoshiro256StarStar : IRandomSource
{
    private ulong _s0, _s1, _s2, _s3;

    public Xoshiro256StarStar(ulong seed)
    {
        var sm = new SplitMix64(seed);
        _s0 = sm.Next();
        _s1 = sm.Next();
        _s2 = sm.Next();
        _s3 = sm.Next();
    }

    /// <summary>An independent generator for a named sub-stream, so that adding a consumer does not shift the others.</summary>
    public static Xoshiro256StarStar ForStream(ulong seed, string stream)
    {
        ulong h = 0xCBF29CE484222325UL;
        foreach (char c in stream)
            h = (h ^ c) * 0x100000001B3UL;
        return new Xoshiro256StarStar(SplitMix64.Mix(seed) ^ h);
    }

    public ulong NextUInt64()
    {
        ulong result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));
}
