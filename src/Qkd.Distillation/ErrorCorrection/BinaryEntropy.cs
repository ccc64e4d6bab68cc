namespace Qkd.Distillation.ErrorCorrection;

/// <summary>The binary entropy function, the Shannon limit of the information needed per bit to correct errors.</summary>
public static class BinaryEntropy
{
    /// <summary>h2(p) = -p log2 p - (1-p) log2 (1-p); 0 at p = 0 and p = 1.</summary>
    public static double H2(double p)
    {
        if (double.IsNaN(p) || p < 0 || p > 1)
            throw new ArgumentOutOfRangeException(nameof(p), p, "A probability must lie in [0, 1].");
        if (p == 0 || p == 1) return 0;
        return -p * Math.Log2(p) - (1 - p) * Math.Log2(1 - p);
    }
}
