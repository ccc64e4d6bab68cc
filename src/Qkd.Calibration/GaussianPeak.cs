namespace Qkd.Calibration;

/// <summary>
/// A fitted histogram peak: counts(x) = background + amplitude * exp(-(x - centre)^2 / (2 sigma^2)), x in the
/// histogram's unit (ps). Uncertainties are one standard error from the fit (Poisson counts); NaN when not available.
/// </summary>
public sealed record GaussianPeak(
    double CentrePs,
    double CentreUncertaintyPs,
    double SigmaPs,
    double SigmaUncertaintyPs,
    double Amplitude,
    double AmplitudeUncertainty,
    double Background,
    int MaxBin,
    double MaxBinCentrePs,
    int BinsFitted,
    string Method)
{
    public double FwhmPs => 2 * Math.Sqrt(2 * Math.Log(2)) * SigmaPs;

    /// <summary>The model at <paramref name="x"/>, counts per bin.</summary>
    public double Evaluate(double x) => Background + Amplitude * Math.Exp(-(x - CentrePs) * (x - CentrePs) / (2 * SigmaPs * SigmaPs));
}
