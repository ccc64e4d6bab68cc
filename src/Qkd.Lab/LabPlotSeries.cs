namespace Qkd.Lab;

/// <summary>How a <see cref="LabPlotSeries"/> is drawn.</summary>
public enum LabPlotSeriesKind
{
    /// <summary>Measured counts per bin as a step curve over the bins' edges (<see cref="LabPlotSeries.Xs"/> are left edges).</summary>
    Histogram,
    /// <summary>Measured values with one-sigma error bars (<see cref="LabPlotSeries.YErrors"/>).</summary>
    Points,
    /// <summary>A fitted model, drawn over the data.</summary>
    Curve,
    /// <summary>A vertical line at a fitted or chosen x (<see cref="LabPlotSeries.Xs"/>[0]).</summary>
    Marker,
    /// <summary>A horizontal reference level (<see cref="LabPlotSeries.Ys"/>[0]).</summary>
    Level,
}

/// <summary>
/// One series of a <see cref="LabPlot"/> as data, before any pixel: what tests check (a log axis has no empty bin drawn as
/// 1, a fit carries its value and uncertainty in its legend, a rate carries its error bars).
/// </summary>
/// <param name="Kind">How it is drawn.</param>
/// <param name="Legend">Its legend entry (a fitted value with its uncertainty and unit); null: none.</param>
/// <param name="Xs">x values in the plot's x unit.</param>
/// <param name="Ys">y values in the plot's y unit (counts, not their logarithm, on a log axis).</param>
/// <param name="YErrors">One standard deviation per point (Points only).</param>
/// <param name="BinWidth">Histogram bin width in x units (Histogram only).</param>
public sealed record LabPlotSeries(LabPlotSeriesKind Kind, string? Legend, double[] Xs, double[] Ys, double[]? YErrors = null, double BinWidth = 0);
