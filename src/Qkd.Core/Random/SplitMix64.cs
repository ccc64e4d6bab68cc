namespace Qkd.Core.Random;

/// <summary>
/// SplitMix64 (Steele, Lea, Flood 2014): a tiny generator and, more importantly here, a strong 64-bit mixing
/// function. Used to expand seeds and as the core of <see cref="CounterRandom"/>.
/// </summary>
public struct SplitMix64
{
    public const ulong Gamma = 0x9E3779B97F4A7C15UL;
    private ulong _state;

    public SplitMix64(ulong seed) => _state = seed;

    public ulong Next()
    {
        _state += Gamma;
        return Mix(_state);
    }

    /// <summary>The SplitMix64 finaliser: a bijection on 64-bit values with full avalanche.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
