// PRE-CHANGE BASELINE (issue 14, sifting): a verbatim copy of the product code as it was before the sifting rewrite,
// renamed, used only by the benchmarks to time the old code against the new in the same run. Not product code.
using System.Runtime.Intrinsics.X86;

namespace Qkd.Reference;

/// <summary>
/// Gathers the selected bits (or bytes) of a word into its low end, in order: BMI2's parallel bit extract where the CPU
/// has it (one instruction; on AMD before Zen 3 it is microcoded and slow, there the loop may be as fast), a loop
/// over the selected bits otherwise. Little-endian byte order, as every .NET platform that runs this has.
/// </summary>
internal static class PreBitSelect
{
    /// <summary>Bit j of the result is the value's bit at the j-th set bit of <paramref name="mask"/>.</summary>
    public static ulong Extract(ulong value, ulong mask)
    {
        if (Bmi2.X64.IsSupported) return Bmi2.X64.ParallelBitExtract(value, mask);
        ulong result = 0;
        for (int j = 0; mask != 0; j++, mask &= mask - 1)
            result |= ((value >> System.Numerics.BitOperations.TrailingZeroCount(mask)) & 1) << j;
        return result;
    }

    /// <summary>Byte j of the result is the byte of <paramref name="eightBytes"/> at the j-th set bit of the 8-bit <paramref name="take"/>.</summary>
    public static ulong ExtractBytes(ulong eightBytes, ulong take)
    {
        if (Bmi2.X64.IsSupported)
            return Bmi2.X64.ParallelBitExtract(eightBytes, Bmi2.X64.ParallelBitDeposit(take, 0x0101010101010101UL) * 0xFF);
        ulong result = 0;
        for (int j = 0; take != 0; j++, take &= take - 1)
            result |= ((eightBytes >> (8 * System.Numerics.BitOperations.TrailingZeroCount(take))) & 0xFF) << (8 * j);
        return result;
    }
}
