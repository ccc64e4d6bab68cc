namespace Qkd.Core.Random;

/// <summary>
/// Counter-based randomness: a pure function of (seed, counter). It lets a component draw the random value that
/// belongs to pulse i without generating the values of every pulse before it, which is what makes the emitter's
/// symbol log O(1) in memory and lets the emulator jump straight to the next click.
/// </summary>
public static class CounterRandom
{
    /// <summary>64 random bits for position <paramref name="counter"/> of the stream named by <paramref name="seed"/>.</summary>
    public static ulong At(ulong seed, long counter)
    {
        // Two rounds of mixing: the first decorrelates neighbouring seeds, the second neighbouring counters.
        ulong key = SplitMix64.Mix(seed ^ 0x6A09E667F3BCC909UL);
        return SplitMix64.Mix(key + (ulong)counter * SplitMix64.Gamma);
    }
}
