using System.Runtime.CompilerServices;
using Qkd.Core.Random;

namespace Qkd.Emulation;

/// <summary>
/// Standard normal deviates by the ziggurat method: one 64-bit draw and one table read for ~99% of samples, which
/// keeps timing jitter off the per-click budget (Box-Muller would cost a log, a square root and a sine per click).
/// The fast path is inlined into callers.
/// </summary>
internal static class NormalSampler
{
    internal static readonly ZigguratLayers Tables = ZigguratLayers.Solve(
        Density,
        y => Math.Sqrt(-2.0 * Math.Log(y)),
        r => Density(r) * MillsRatio(r),
        lowerBound: 1.0,
        upperBound: 10.0);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Next(Xoshiro256StarStar random)
    {
        // Bits 0-7 pick the layer, bit 8 the sign, bits 11-63 the position across the layer.
        ulong bits = random.NextUInt64();
        ulong u = bits >> 11;
        ref readonly ZigguratLayers.Layer layer = ref Tables.LayerOf(bits);
        if (u < layer.AcceptBelow)
        {
            double x = u * layer.Scale;
            return (bits & 0x100) == 0 ? x : -x;
        }
        return NextOutsideRectangle(random, bits);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static double NextOutsideRectangle(Xoshiro256StarStar random, ulong bits)
    {
        ZigguratLayers t = Tables;
        while (true)
        {
            int i = (int)(bits & ZigguratLayers.LayerMask);
            ulong u = bits >> 11;
            double sign = (bits & 0x100) == 0 ? 1.0 : -1.0;
            double x = u * t.Layers[i].Scale;
            if (u < t.Layers[i].AcceptBelow) return sign * x;
            if (i == 0) return sign * Tail(random, t.TailStart);
            double y = t.F[i] + random.NextDouble() * (t.F[i + 1] - t.F[i]);
            if (y < Density(x)) return sign * x;
            bits = random.NextUInt64();
        }
    }

    /// <summary>Unnormalised density exp(-x^2/2), so that f(0) = 1 as the ziggurat builder expects.</summary>
    private static double Density(double x) => Math.Exp(-0.5 * x * x);

    /// <summary>Marsaglia's tail method: exact samples from the normal beyond r.</summary>
    private static double Tail(Xoshiro256StarStar random, double r)
    {
        double a, b;
        do
        {
            a = -Math.Log(1.0 - random.NextDouble()) / r;
            b = -Math.Log(1.0 - random.NextDouble());
        }
        while (b + b < a * a);
        return r + a;
    }

    /// <summary>
    /// Mills ratio R(x) = integral_x^inf exp(-t^2/2) dt / exp(-x^2/2), by its continued fraction
    /// 1/(x + 1/(x + 2/(x + 3/(x + ...)))), evaluated bottom-up. Only needed while building the tables.
    /// </summary>
    internal static double MillsRatio(double x)
    {
        double t = x;
        for (int k = 4000; k >= 1; k--)
            t = x + k / t;
        return 1.0 / t;
    }
}
