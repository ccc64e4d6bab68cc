namespace Qkd.Emulation;

/// <summary>
/// log(1+x) and exp(x)-1 without cancellation for tiny x. Click probabilities such as 1-(1-p_dark)^D with
/// p_dark = 1e-9 would otherwise lose most of their digits; .NET's double.LogP1/ExpM1 do not guard against that.
/// Both use Kahan's correction (the rounding error of 1+x, respectively of exp, cancels in the ratio).
/// </summary>
internal static class PreciseMath
{
    public static double Log1P(double x)
    {
        double u = 1.0 + x;
        if (u == 1.0) return x;
        return Math.Log(u) * x / (u - 1.0);
    }

    public static double ExpM1(double x)
    {
        double u = Math.Exp(x);
        if (u == 1.0) return x;
        double um1 = u - 1.0;
        if (um1 == -1.0) return -1.0;
        return um1 * x / Math.Log(u);
    }

    /// <summary>1 - exp(x) for x &lt;= 0: the probability that at least one of independent events fires.</summary>
    public static double OneMinusExp(double x) => -ExpM1(x);

    /// <summary>
    /// Complementary error function, Chebyshev fit (Numerical Recipes' erfcc): relative error below 1.2e-7 everywhere,
    /// ample for gate-overlap probabilities.
    /// </summary>
    public static double Erfc(double x)
    {
        double z = Math.Abs(x);
        double t = 1 / (1 + 0.5 * z);
        double r = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
            + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? r : 2 - r;
    }
}
