using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Qkd.Emulation;

/// <summary>
/// The layer tables of a 256-layer ziggurat (Marsaglia and Tsang 2000) for a monotone decreasing density on
/// [0, inf) with f(0) = 1. The tail start r is solved numerically from the density rather than copied, so the same
/// builder serves the normal and the exponential sampler; tests compare the solved r with the published constants.
/// </summary>
/// <remarks>
/// Layer 0 is the base strip: a box of width x[0] = v / f(r) that also stands for the tail beyond r. Layer i &gt;= 1
/// is the box of width x[i] between heights f(x[i]) and f(x[i+1]); every layer has area v, and x[N] = 0.
/// A sample picks a layer uniformly and a point uniformly across its width; inside x[i+1] it is accepted at once
/// (about 99% of draws), otherwise a wedge or tail test decides.
/// </remarks>
internal sealed class ZigguratLayers
{
    public const int LayerBits = 8;
    public const int LayerCount = 1 << LayerBits;
    public const int LayerMask = LayerCount - 1;

    /// <summary>Width of each layer's box, length LayerCount + 1 with X[LayerCount] = 0.</summary>
    public readonly double[] X;

    /// <summary>Density at X[i] (F[LayerCount] = f(0) = 1).</summary>
    public readonly double[] F;

    /// <summary>The fast-path data of each layer, side by side so one cache line serves both reads.</summary>
    public readonly Layer[] Layers;

    /// <summary>
    /// A 53-bit uniform u is inside layer i's safe rectangle when u &lt; AcceptBelow; its position across the layer is
    /// u * Scale.
    /// </summary>
    public struct Layer
    {
        public ulong AcceptBelow;
        public double Scale;
    }

    public double TailStart { get; }

    /// <summary>Layer (bits &amp; LayerMask) without a bounds check: the mask keeps the index inside the table.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref readonly Layer LayerOf(ulong bits) =>
        ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Layers), (nint)(bits & LayerMask));

    public double LayerArea { get; }

    private ZigguratLayers(double tailStart, double layerArea, Func<double, double> density, Func<double, double> inverseDensity)
    {
        TailStart = tailStart;
        LayerArea = layerArea;
        X = new double[LayerCount + 1];
        F = new double[LayerCount + 1];
        X[0] = layerArea / density(tailStart);
        X[1] = tailStart;
        for (int i = 1; i < LayerCount - 1; i++)
            X[i + 1] = inverseDensity(layerArea / X[i] + density(X[i]));
        X[LayerCount] = 0;
        for (int i = 0; i <= LayerCount; i++)
            F[i] = density(X[i]);

        Layers = new Layer[LayerCount];
        const double two53 = 9007199254740992.0;
        for (int i = 0; i < LayerCount; i++)
        {
            Layers[i].AcceptBelow = (ulong)(X[i + 1] / X[i] * two53);
            Layers[i].Scale = X[i] / two53;
        }
    }

    /// <summary>
    /// Solves for the tail start r by bisection: with r too small the layers reach the top of the density before the
    /// last one (too much area per layer), with r too large the last layer is left too big.
    /// </summary>
    public static ZigguratLayers Solve(
        Func<double, double> density, Func<double, double> inverseDensity, Func<double, double> tailArea,
        double lowerBound, double upperBound)
    {
        double lo = lowerBound, hi = upperBound;
        for (int iteration = 0; iteration < 200 && hi - lo > 1e-15 * hi; iteration++)
        {
            double mid = 0.5 * (lo + hi);
            if (TopLayerExcess(mid, density, inverseDensity, tailArea) > 0) hi = mid;
            else lo = mid;
        }
        double r = 0.5 * (lo + hi);
        return new ZigguratLayers(r, r * density(r) + tailArea(r), density, inverseDensity);
    }

    /// <summary>Area of the top layer minus the common layer area, or -1 if the layers overflow the density first.</summary>
    private static double TopLayerExcess(
        double r, Func<double, double> density, Func<double, double> inverseDensity, Func<double, double> tailArea)
    {
        double v = r * density(r) + tailArea(r);
        double x = r;
        for (int i = 1; i < LayerCount - 1; i++)
        {
            double y = v / x + density(x);
            if (y >= 1.0) return -1.0;
            x = inverseDensity(y);
        }
        return x * (1.0 - density(x)) - v;
    }
}
