using System.Runtime.CompilerServices;
using Qkd.Core.Random;

namespace Qkd.Emulation;

/// <summary>
/// Standard exponential deviates by the ziggurat method. The click sampler draws one per candidate pulse (the
/// geometric skip is floor(E / lambda)), so this is the hottest random variate of the emulator; a plain -log(U)
/// would spend a logarithm per candidate. The one-draw fast path (~99% of samples) is inlined into callers.
/// </summary>
internal static class ExponentialSampler
{
    internal static readonly ZigguratLayers Tables = ZigguratLayers.Solve(
        x => Math.Exp(-x),
        y => -Math.Log(y),
        r => Math.Exp(-r),
        lowerBound: 1.0,
        upperBound: 20.0);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Next(Xoshiro256StarStar random)
    {
        // Bits 0-7 pick the layer, bits 11-63 the position across it.
        ulong bits = random.NextUInt64();
        ulong u = bits >> 11;
        ref readonly ZigguratLayers.Layer layer = ref Tables.LayerOf(bits);
        return u < layer.AcceptBelow ? u * layer.Scale : NextOutsideRectangle(random, bits);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static double NextOutsideRectangle(Xoshiro256StarStar random, ulong bits)
    {
        ZigguratLayers t = Tables;
        double offset = 0;
        while (true)
        {
            int i = (int)(bits & ZigguratLayers.LayerMask);
            ulong u = bits >> 11;
            double x = u * t.Layers[i].Scale;
            if (u < t.Layers[i].AcceptBelow) return offset + x;
            if (i == 0)
            {
                // The exponential is memoryless: beyond r it is r plus a fresh exponential.
                offset += t.TailStart;
            }
            else
            {
                double y = t.F[i] + random.NextDouble() * (t.F[i + 1] - t.F[i]);
                if (y < Math.Exp(-x)) return offset + x;
            }
            bits = random.NextUInt64();
        }
    }
}
