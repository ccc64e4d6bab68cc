// PRE-CHANGE BASELINE (issue 14, sifting): SeededSymbolSource.PackedAt as it was before the sifting rewrite, used only
// by the benchmarks to time the old code against the new in the same run. Not product code.
using Qkd.Core.Random;
using Qkd.Core.Symbols;

namespace Qkd.Reference;

public sealed class PreSymbolLookup(ulong seed, SymbolDistribution distribution)
{
    private readonly ulong _key = CounterRandom.KeyOf(seed);

    public SymbolDistribution Distribution { get; } = distribution;

    public void PackedAt(ReadOnlySpan<long> pulses, Span<byte> packed)
    {
        if (packed.Length < pulses.Length)
            throw new ArgumentException($"{packed.Length} bytes for the symbols of {pulses.Length} pulses.", nameof(packed));
        SymbolDistribution distribution = Distribution;
        ulong key = _key;
        for (int i = 0; i < pulses.Length; i++)
        {
            long pulse = pulses[i];
            ArgumentOutOfRangeException.ThrowIfNegative(pulse);
            packed[i] = distribution.PackedFrom(SplitMix64.Mix(key + (ulong)pulse * SplitMix64.Gamma));
        }
    }
}
