using Qkd.Core.Random;

namespace Qkd.Core.Symbols;

/// <summary>
/// Alice's symbol stream as a pure function of a seed and the pulse index (counter-based randomness). Equivalent to
/// an emission log of every pulse, but O(1) in memory: the symbol of pulse i is computed when someone asks for it.
/// </summary>
public sealed class SeededSymbolSource(ulong seed, SymbolDistribution distribution) : ISymbolSource
{
    public SymbolDistribution Distribution { get; } = distribution;

    public ulong Seed { get; } = seed;

    private readonly ulong _key = CounterRandom.KeyOf(seed);

    public PulseSymbol SymbolAt(long pulseIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pulseIndex);
        return Distribution.FromRandom(CounterRandom.AtKey(_key, pulseIndex));
    }

    /// <summary>The bulk path the modulator driver streams from: the same symbols as <see cref="SymbolAt"/>, packed.</summary>
    public void FillPacked(long firstPulse, Span<byte> packed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstPulse);
        SymbolDistribution distribution = Distribution;
        ulong key = _key;
        ulong counter = (ulong)firstPulse;
        for (int i = 0; i < packed.Length; i++, counter += 2)
        {
            byte low = distribution.PackedFrom(SplitMix64.Mix(key + counter * SplitMix64.Gamma));
            byte high = distribution.PackedFrom(SplitMix64.Mix(key + (counter + 1) * SplitMix64.Gamma));
            packed[i] = (byte)(low | (high << 4));
        }
    }

    /// <summary>Only the intensity of pulse i (cheaper path used by the emulator's click sampler).</summary>
    public Intensity IntensityAt(long pulseIndex) => Distribution.IntensityFrom(CounterRandom.AtKey(_key, pulseIndex));
}
