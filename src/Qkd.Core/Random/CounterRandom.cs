namespace Qkd.Core.Random;

/// <summary>
/// Counter-based randomness: a pure function of (seed, counter). It lets a component draw the random value that
/// belongs to pulse i without generating the values of every pulse before it, which is what makes the emitter's
/// symbol log O(1) in memory and lets the emulator jump straight to the next click.
/// </summary>
public static class CounterRandom
{
    /// <summary>64 random bits for position <paramref name="counter"/> of the stream named by <paramref name="seed"/>.</summary>
    public static ulong At(ulong seed, long counter) => AtKey(KeyOf(seed), counter);

    /// <summary>
    /// The per-stream key: the first mixing round, which decorrelates neighbouring seeds. Callers that draw many
    /// values of one stream compute it once and use <see cref="AtKey"/>.
    /// </summary>
    public static ulong KeyOf(ulong seed) => SplitMix64.Mix(seed ^ 0x6A09E667F3BCC909UL);

    /// <summary>Same as <see cref="At"/> for a key from <see cref="KeyOf"/>; the second round decorrelates neighbouring counters.</summary>
    public static ulong AtKey(ulong key, long counter) => SplitMix64.Mix(key + (ulong)counter * SplitMix64.Gamma);
}
