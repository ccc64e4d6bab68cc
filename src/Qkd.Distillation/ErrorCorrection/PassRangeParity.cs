using System.Numerics;
using System.Runtime.CompilerServices;
using Qkd.Core.Bits;

namespace Qkd.Distillation.ErrorCorrection;

/// <summary>
/// Parity of a range of pass positions, as both ends of Cascade ask it: the deep levels of a search cover a range inside
/// one word, answered inline; longer ranges go to <see cref="PackedBits.RangeParity"/>. Kept in this assembly so that
/// ReadyToRun code inlines it (it does not inline across assemblies).
/// </summary>
internal static class PassRangeParity
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Of(ulong[] bits, int start, int length)
    {
        int offset = start & 63;
        if (offset + length > 64) return PackedBits.RangeParity(bits, start, length);
        ulong word = bits[start >> 6] >> offset;
        if (length < 64) word &= (1UL << length) - 1;
        return BitOperations.PopCount(word) & 1;
    }
}
