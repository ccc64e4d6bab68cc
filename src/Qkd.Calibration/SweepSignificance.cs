namespace Qkd.Calibration;

/// <summary>
/// Whether a sweep's optimum is a finding or noise (<see cref="SweepOptimum.MostCountsSignificance"/>,
/// <see cref="SweepOptimum.LowestSignificance"/>).
/// </summary>
/// <param name="Best">The optimum's step (-1 when no step has a value).</param>
/// <param name="Sigmas">How far the optimum stands from the sweep's other end, in standard deviations of the difference.</param>
/// <param name="RequiredSigmas">What a sweep of this many steps needs (<see cref="SweepOptimum.RequiredSigmas"/>).</param>
public readonly record struct SweepSignificance(int Best, double Sigmas, double RequiredSigmas)
{
    public bool IsSignificant => Best >= 0 && Sigmas >= RequiredSigmas;

    /// <summary>
    /// By how much the data per step must grow for the optimum to become significant, if the curve is real: sigmas
    /// grow as the square root of the counts. Positive infinity when nothing stood out at all (0 sigmas); 1 when significant.
    /// </summary>
    public double DataFactorNeeded => IsSignificant ? 1 : Sigmas > 0 ? Math.Pow(RequiredSigmas / Sigmas, 2) : double.PositiveInfinity;
}
