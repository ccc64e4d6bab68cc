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

    /// <summary>Entries in the whole histogram the peak was found in.</summary>
    public long HistogramCounts { get; init; }

    /// <summary>Entries within two widths of the centre (at least the maximum bin and its neighbours).</summary>
    public long WindowCounts { get; init; }

    /// <summary>Of <see cref="WindowCounts"/>, those above the background: the peak's own counts.</summary>
    public double ExcessCounts { get; init; }

    /// <summary>
    /// <see cref="ExcessCounts"/> over the Poisson spread of <see cref="WindowCounts"/>: how many standard deviations the
    /// peak stands above the background (a noise bin in a flat histogram gives about 1 to 3).
    /// </summary>
    public double Significance { get; init; }

    /// <summary>The model at <paramref name="x"/>, counts per bin.</summary>
    public double Evaluate(double x) => Background + Amplitude * Math.Exp(-(x - CentrePs) * (x - CentrePs) / (2 * SigmaPs * SigmaPs));
}
