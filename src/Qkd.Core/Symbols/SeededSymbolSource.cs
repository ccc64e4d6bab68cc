using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
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

    /// <summary>
    /// The bulk lookup of a sift batch: the same symbols as <see cref="SymbolAt"/>, packed (<see cref="SymbolDistribution.PackedFrom"/>
    /// written out with its thresholds in registers), without a call or a check per pulse: the pulses are checked once,
    /// by a vector search for a negative one, before anything is written.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void PackedAt(ReadOnlySpan<long> pulses, Span<byte> packed)
    {
        if (packed.Length < pulses.Length)
            throw new ArgumentException($"{packed.Length} bytes for the symbols of {pulses.Length} pulses.", nameof(packed));
        if (pulses.IndexOfAnyInRange(long.MinValue, -1) is var negative and >= 0)
            ArgumentOutOfRangeException.ThrowIfNegative(pulses[negative], "pulse");
        var (signal, decoy, z) = Distribution.Thresholds;
        ulong basisThreshold = z >> 1, key = _key;
        ref long pulse = ref MemoryMarshal.GetReference(pulses);
        ref byte destination = ref MemoryMarshal.GetReference(packed);
        int i = 0;
        if (Avx2.IsSupported) i = PackedAtAvx2(ref pulse, ref destination, pulses.Length & ~3, key, signal, decoy, basisThreshold);
        for (; i < pulses.Length; i++)
        {
            ulong r = SplitMix64.Mix(key + (ulong)Unsafe.Add(ref pulse, i) * SplitMix64.Gamma);
            ulong u = r & 0xFFFFFFFFUL;
            ulong intensity = (u >= signal ? 1UL : 0UL) + (u >= decoy ? 1UL : 0UL);
            ulong basis = ((r >> 32) & 0x7FFFFFFFUL) < basisThreshold ? 0UL : 1UL;
            Unsafe.Add(ref destination, i) = (byte)(basis | ((r >> 63) << 1) | (intensity << 2));
        }
    }

    /// <summary>
    /// <see cref="PackedAt"/> four pulses at a time in 256-bit vectors (issue 14: the lookup was some 2.5 % of a replay's
    /// CPU): the same hash and thresholds, the 64-bit multiplies made of three 32 x 32-bit ones (AVX2 has no 64-bit
    /// multiply). The thresholds and the 32-bit uniforms they meet are below 2^33, so the signed compares of AVX2 order
    /// them as the unsigned ones do. Returns the pulses done (<paramref name="count"/>, a multiple of 4).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int PackedAtAvx2(ref long pulse, ref byte destination, int count, ulong key, ulong signal, ulong decoy, ulong basisThreshold)
    {
        var keys = Vector256.Create(key);
        var signalThreshold = Vector256.Create((long)signal);
        var decoyThreshold = Vector256.Create((long)decoy);
        var basisThresholds = Vector256.Create((long)basisThreshold);
        var low32 = Vector256.Create(0xFFFFFFFFUL);
        var low31 = Vector256.Create(0x7FFFFFFFUL);
        var one = Vector256.Create(1L);
        var byteShifts = Vector256.Create(0UL, 8, 16, 24);
        for (int i = 0; i < count; i += 4)
        {
            var z = keys + MultiplyLow(Vector256.LoadUnsafe(ref pulse, (nuint)i).AsUInt64(), SplitMix64.Gamma);
            z = MultiplyLow(z ^ (z >> 30), 0xBF58476D1CE4E5B9UL);
            z = MultiplyLow(z ^ (z >> 27), 0x94D049BB133111EBUL);
            z ^= z >> 31;
            var u = (z & low32).AsInt64();
            var intensity = (Vector256.GreaterThanOrEqual(u, signalThreshold) & one) + (Vector256.GreaterThanOrEqual(u, decoyThreshold) & one);
            var basis = Vector256.GreaterThanOrEqual(((z >> 32) & low31).AsInt64(), basisThresholds) & one;
            var code = (basis | ((z >> 63).AsInt64() << 1) | (intensity << 2)).AsUInt64();
            // Lane k's code (< 16) to byte k, then the four lanes OR-ed into one 32-bit store.
            var placed = Avx2.ShiftLeftLogicalVariable(code, byteShifts);
            var half = placed.GetLower() | placed.GetUpper();
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref destination, i), (uint)(half.ToScalar() | half.GetElement(1)));
        }
        return count;
    }

    /// <summary>The low 64 bits of each lane times <paramref name="c"/>, from 32 x 32-bit multiplies.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ulong> MultiplyLow(Vector256<ulong> x, ulong c)
    {
        var cLow = Vector256.Create(c & 0xFFFFFFFFUL).AsUInt32();
        var cHigh = Vector256.Create(c >> 32).AsUInt32();
        var low = Avx2.Multiply(x.AsUInt32(), cLow);
        var cross = Avx2.Multiply((x >> 32).AsUInt32(), cLow) + Avx2.Multiply(x.AsUInt32(), cHigh);
        return low + (cross << 32);
    }

    /// <summary>
    /// The bulk path the modulator driver streams from (a 1 GHz transmitter needs 1e9 symbols a second): the same symbols
    /// as <see cref="SymbolAt"/>, packed. Eight pulses at a time in 512-bit vectors where the CPU has them (AVX-512
    /// multiplies 64-bit lanes natively), one at a time otherwise.
    /// </summary>
    public void FillPacked(long firstPulse, Span<byte> packed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstPulse);
        int i = 0;
        if (Vector512.IsHardwareAccelerated && Avx512DQ.IsSupported) i = FillPacked512(firstPulse, packed);
        SymbolDistribution distribution = Distribution;
        ulong key = _key;
        ulong counter = (ulong)firstPulse + 2UL * (ulong)i;
        for (; i < packed.Length; i++, counter += 2)
        {
            byte low = distribution.PackedFrom(SplitMix64.Mix(key + counter * SplitMix64.Gamma));
            byte high = distribution.PackedFrom(SplitMix64.Mix(key + (counter + 1) * SplitMix64.Gamma));
            packed[i] = (byte)(low | (high << 4));
        }
    }

    /// <summary>Whole groups of 8 pulses (4 bytes); returns the bytes written.</summary>
    private int FillPacked512(long firstPulse, Span<byte> packed)
    {
        var (signal, decoy, z) = Distribution.Thresholds;
        var one = Vector512.Create(1UL);
        var signalThreshold = Vector512.Create(signal);
        var decoyThreshold = Vector512.Create(decoy);
        var basisThreshold = Vector512.Create(z >> 1);
        var low32 = Vector512.Create(0xFFFFFFFFUL);
        var low31 = Vector512.Create(0x7FFFFFFFUL);
        var step = Vector512.Create(unchecked(8 * SplitMix64.Gamma));
        var z0 = Vector512.Create(_key + (ulong)firstPulse * SplitMix64.Gamma)
                 + Vector512.Create(0UL, 1, 2, 3, 4, 5, 6, 7) * Vector512.Create(SplitMix64.Gamma);
        Span<ulong> lanes = stackalloc ulong[8];
        int bytes = packed.Length & ~3;
        for (int i = 0; i < bytes; i += 4, z0 += step)
        {
            var x = z0;
            x = (x ^ Vector512.ShiftRightLogical(x, 30)) * Vector512.Create(0xBF58476D1CE4E5B9UL);
            x = (x ^ Vector512.ShiftRightLogical(x, 27)) * Vector512.Create(0x94D049BB133111EBUL);
            x ^= Vector512.ShiftRightLogical(x, 31);
            var u = x & low32;
            var intensity = (Vector512.GreaterThanOrEqual(u, signalThreshold) & one) + (Vector512.GreaterThanOrEqual(u, decoyThreshold) & one);
            var basis = Vector512.GreaterThanOrEqual(Vector512.ShiftRightLogical(x, 32) & low31, basisThreshold) & one;
            var nibble = basis | (Vector512.ShiftRightLogical(x, 63) << 1) | (intensity << 2);
            nibble.CopyTo(lanes);
            packed[i] = (byte)(lanes[0] | (lanes[1] << 4));
            packed[i + 1] = (byte)(lanes[2] | (lanes[3] << 4));
            packed[i + 2] = (byte)(lanes[4] | (lanes[5] << 4));
            packed[i + 3] = (byte)(lanes[6] | (lanes[7] << 4));
        }
        return bytes;
    }

    /// <summary>Only the intensity of pulse i (cheaper path used by the emulator's click sampler).</summary>
    public Intensity IntensityAt(long pulseIndex) => Distribution.IntensityFrom(CounterRandom.AtKey(_key, pulseIndex));
}
