using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ArmAes = System.Runtime.Intrinsics.Arm.Aes;

namespace Qkd.Distillation.PrivacyAmplification;

/// <summary>
/// The 64 x 64 -> 128 bit carry-less (GF(2)[x]) product, the base case of every binary-polynomial multiplication in
/// privacy amplification. Uses PCLMULQDQ on x64 and PMULL on arm64; elsewhere a table-driven software product that
/// gives identical results, so both ends of a link agree whatever hardware they run on.
/// </summary>
internal static class CarrylessMultiply
{
    /// <summary>True when a single instruction computes the product (the software fallback is about 20x slower).</summary>
    public static bool IsHardwareAccelerated => Pclmulqdq.IsSupported || ArmAes.IsSupported;

    /// <summary>Returns the low 64 bits of a*b over GF(2)[x] and sets <paramref name="high"/> to the high 64 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Multiply(ulong a, ulong b, out ulong high)
    {
        if (Pclmulqdq.IsSupported)
        {
            Vector128<ulong> p = Pclmulqdq.CarrylessMultiply(Vector128.CreateScalarUnsafe(a), Vector128.CreateScalarUnsafe(b), 0x00);
            high = p.GetElement(1);
            return p.ToScalar();
        }
        if (ArmAes.IsSupported)
        {
            Vector128<ulong> p = ArmAes.PolynomialMultiplyWideningLower(Vector64.CreateScalar(a), Vector64.CreateScalar(b));
            high = p.GetElement(1);
            return p.ToScalar();
        }
        return MultiplySoftware(a, b, out high);
    }

    /// <summary>
    /// Portable product: a 4-bit window over <paramref name="a"/> with a 16-entry table of multiples of
    /// <paramref name="b"/>, kept on the stack. It has no data-dependent branches, but the table index is key-dependent,
    /// so unlike the instruction it is not strictly constant-time against a cache-timing observer on the same machine.
    /// </summary>
    public static ulong MultiplySoftware(ulong a, ulong b, out ulong high)
    {
        // Table of k*b for k = 0..15 over GF(2)[x]: up to 67 bits, split into the low word and the 3 overflow bits.
        Span<ulong> lowTable = stackalloc ulong[16];
        Span<ulong> highTable = stackalloc ulong[16];
        lowTable[0] = 0;
        highTable[0] = 0;
        lowTable[1] = b;
        highTable[1] = 0;
        for (int k = 2; k < 16; k += 2)
        {
            // k*b = (k/2)*b * x, and (k+1)*b = k*b + b.
            lowTable[k] = lowTable[k >> 1] << 1;
            highTable[k] = (highTable[k >> 1] << 1) | (lowTable[k >> 1] >> 63);
            lowTable[k + 1] = lowTable[k] ^ b;
            highTable[k + 1] = highTable[k];
        }

        ulong lo = 0, hi = 0;
        for (int shift = 60; shift >= 0; shift -= 4)
        {
            // Multiply the accumulator by x^4, then add the next nibble's multiple.
            hi = (hi << 4) | (lo >> 60);
            lo <<= 4;
            int nibble = (int)((a >> shift) & 15);
            lo ^= lowTable[nibble];
            hi ^= highTable[nibble];
        }
        high = hi;
        return lo;
    }
}
