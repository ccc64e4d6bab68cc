using System.Globalization;
using ScottPlot;
using ScottPlot.TickGenerators;

namespace Qkd.Lab;

/// <summary>
/// A lab-book plot: a title, axis labels with units (the bin width in a histogram's y label), the data as a step curve or
/// as points with error bars, fitted curves drawn over the data with the fitted value and its uncertainty in the legend,
/// and the legend below the axes so it never covers data. Counts that span decades go on a log axis
/// (<see cref="LogY"/>), where an empty bin is not drawn at all (log 0 has no place; drawing it at 1 would invent a
/// count). The plot is a model first (<see cref="Series"/>), rendered by ScottPlot only in <see cref="SavePng"/>, so tests
/// check what is drawn without reading pixels.
/// </summary>
public sealed class LabPlot
{
    private readonly List<LabPlotSeries> _series = [];

    /// <param name="title">What the plot shows ("Z0 (ch 1) vs sync (ch 0)").</param>
    /// <param name="xLabel">X axis with its unit ("t_stop - t_start (ps)").</param>
    /// <param name="yLabel">Y axis with its unit ("counts per 10 ps bin").</param>
    public LabPlot(string title, string xLabel, string yLabel)
    {
        Title = title;
        XLabel = xLabel;
        YLabel = yLabel;
    }

    public string Title { get; }
    public string XLabel { get; }
    public string YLabel { get; }

    /// <summary>Whether the y axis is logarithmic (decades of counts).</summary>
    public bool LogY { get; private set; }

    /// <summary>What will be drawn, in order (later series are drawn over earlier ones).</summary>
    public IReadOnlyList<LabPlotSeries> Series => _series;

    /// <summary>A log y axis: for counts that span decades. Points at or below zero are then left out, never drawn at 1.</summary>
    public LabPlot LogScale()
    {
        LogY = true;
        return this;
    }

    /// <summary>Whether counts spanning <paramref name="values"/> call for a log axis: the non-zero ones cover more than two decades.</summary>
    public static bool SpansDecades(ReadOnlySpan<double> values)
    {
        double min = double.PositiveInfinity, max = 0;
        foreach (double v in values)
        {
            if (!(v > 0) || !double.IsFinite(v)) continue;
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        return max > 0 && max / min >= 100;
    }

    /// <summary>A histogram as a step curve over bin left edges <paramref name="edges"/> (length n) with width <paramref name="binWidth"/>.</summary>
    public LabPlot Histogram(ReadOnlySpan<double> edges, ReadOnlySpan<double> values, double binWidth, string? legend = null)
    {
        if (edges.Length != values.Length) throw new ArgumentException("One value per bin edge.", nameof(values));
        _series.Add(new LabPlotSeries(LabPlotSeriesKind.Histogram, legend, edges.ToArray(), values.ToArray(), null, binWidth));
        return this;
    }

    /// <summary>Measured values with one-sigma error bars (rates, QBERs, sparse counts).</summary>
    public LabPlot Points(double[] xs, double[] ys, double[] yErrors, string? legend = null)
    {
        ArgumentNullException.ThrowIfNull(xs);
        ArgumentNullException.ThrowIfNull(ys);
        ArgumentNullException.ThrowIfNull(yErrors);
        if (xs.Length != ys.Length || ys.Length != yErrors.Length) throw new ArgumentException("One x, y and error per point.", nameof(yErrors));
        _series.Add(new LabPlotSeries(LabPlotSeriesKind.Points, legend, xs, ys, yErrors));
        return this;
    }

    /// <summary>A smooth curve (a fitted model) through (<paramref name="xs"/>, <paramref name="ys"/>), drawn over the data.</summary>
    /// <param name="legend">The fit and its value with uncertainty ("Gaussian fit: centre 1233.8 ± 0.2 ps").</param>
    public LabPlot Curve(double[] xs, double[] ys, string legend)
    {
        ArgumentNullException.ThrowIfNull(xs);
        ArgumentNullException.ThrowIfNull(ys);
        if (xs.Length != ys.Length) throw new ArgumentException("One y per x.", nameof(ys));
        _series.Add(new LabPlotSeries(LabPlotSeriesKind.Curve, legend, xs, ys));
        return this;
    }

    /// <summary>A vertical line at <paramref name="x"/> labelled with <paramref name="label"/> (a fitted value with its unit); nothing when not finite.</summary>
    public LabPlot Marker(double x, string label)
    {
        if (double.IsFinite(x)) _series.Add(new LabPlotSeries(LabPlotSeriesKind.Marker, label, [x], []));
        return this;
    }

    /// <summary>A horizontal reference line (e.g. g2 = 1, the accidental level).</summary>
    public LabPlot Level(double y, string label)
    {
        if (double.IsFinite(y)) _series.Add(new LabPlotSeries(LabPlotSeriesKind.Level, label, [], [y]));
        return this;
    }

    /// <summary>"value ± uncertainty unit" with the uncertainty's precision (two significant digits), for legends.</summary>
    public static string ValueWithUncertainty(double value, double uncertainty, string unit)
    {
        if (!double.IsFinite(value)) return "n/a";
        if (!(uncertainty > 0) || !double.IsFinite(uncertainty))
            return string.Create(CultureInfo.InvariantCulture, $"{value:G4} {unit}").TrimEnd();
        int decimals = Math.Clamp(1 - (int)Math.Floor(Math.Log10(uncertainty)), 0, 12);
        string format = "F" + decimals.ToString(CultureInfo.InvariantCulture);
        return $"{value.ToString(format, CultureInfo.InvariantCulture)} ± {uncertainty.ToString(format, CultureInfo.InvariantCulture)} {unit}".TrimEnd();
    }

    /// <summary>Renders to <paramref name="path"/> (creating the folder) and returns the path.</summary>
    public string SavePng(string path, int width = 1000, int height = 700)
    {
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        Render().SavePng(path, width, height);
        return path;
    }

    private Plot Render()
    {
        var plot = new Plot();
        plot.Title(Title);
        plot.XLabel(XLabel);
        plot.YLabel(YLabel);
        var palette = new ScottPlot.Palettes.Category10();
        int colour = 0, markers = 0;
        foreach (var series in _series)
        {
            switch (series.Kind)
            {
                case LabPlotSeriesKind.Histogram:
                    AddHistogram(plot, series, palette.GetColor(colour++));
                    break;
                case LabPlotSeriesKind.Points:
                    AddPoints(plot, series, palette.GetColor(colour++));
                    break;
                case LabPlotSeriesKind.Curve:
                    AddCurve(plot, series, palette.GetColor(colour++));
                    break;
                case LabPlotSeriesKind.Marker:
                    var line = plot.Add.VerticalLine(series.Xs[0]);
                    line.LineWidth = 2;
                    line.LinePattern = LinePattern.Dashed;
                    line.Color = markers++ % 2 == 0 ? Colors.Red : Colors.DarkGreen;
                    if (series.Legend is not null) line.LegendText = series.Legend;
                    break;
                case LabPlotSeriesKind.Level:
                    var level = plot.Add.HorizontalLine(Y(series.Ys[0]));
                    level.LineWidth = 1;
                    level.LinePattern = LinePattern.Dotted;
                    level.Color = Colors.Gray;
                    if (series.Legend is not null) level.LegendText = series.Legend;
                    break;
            }
        }
        if (LogY)
        {
            // Log10 of the values is plotted; the ticks say the counts themselves, with minor ticks per decade.
            plot.Axes.Left.TickGenerator = new NumericAutomatic
            {
                MinorTickGenerator = new LogMinorTickGenerator(),
                IntegerTicksOnly = true,
                LabelFormatter = LogTickLabel,
            };
        }
        // Below the axes: a legend inside the data area hides the very bins it names.
        plot.ShowLegend(Edge.Bottom);
        return plot;
    }

    /// <summary>A log axis tick as the value itself: 0.01, 1, 1,000, 1e+06.</summary>
    private static string LogTickLabel(double exponent)
    {
        double value = Math.Pow(10, exponent);
        if (value >= 1 && value < 1e6) return value.ToString("N0", CultureInfo.InvariantCulture);
        if (value < 1 && value >= 1e-3) return value.ToString("0.###", CultureInfo.InvariantCulture);
        return value.ToString("0e+0", CultureInfo.InvariantCulture);
    }

    /// <summary>The value on the drawn axis: log10 on a log axis (NaN, not drawn, for values at or below zero).</summary>
    private double Y(double value) => !LogY ? value : value > 0 ? Math.Log10(value) : double.NaN;

    /// <summary>
    /// A histogram series as it is drawn: step curves (each bin flat from its left to its right edge) in axis values
    /// (log10 of the counts on a log axis). On a log axis each run of non-empty bins is its own curve, so an empty bin is
    /// a gap rather than a drop to an invented floor.
    /// </summary>
    public IReadOnlyList<(double[] Xs, double[] Ys)> HistogramSegments(LabPlotSeries series)
    {
        ArgumentNullException.ThrowIfNull(series);
        var segments = new List<(double[], double[])>();
        var xs = new List<double>();
        var ys = new List<double>();
        void Flush()
        {
            if (xs.Count > 0) segments.Add((xs.ToArray(), ys.ToArray()));
            xs.Clear();
            ys.Clear();
        }
        for (int i = 0; i < series.Xs.Length; i++)
        {
            double y = Y(series.Ys[i]);
            if (!double.IsFinite(y))
            {
                Flush();
                continue;
            }
            xs.Add(series.Xs[i]);
            xs.Add(series.Xs[i] + series.BinWidth);
            ys.Add(y);
            ys.Add(y);
        }
        Flush();
        return segments;
    }

    private void AddHistogram(Plot plot, LabPlotSeries series, Color color)
    {
        bool legendShown = false;
        foreach (var (xs, ys) in HistogramSegments(series))
        {
            var scatter = plot.Add.Scatter(xs, ys);
            scatter.MarkerSize = 0;
            scatter.LineWidth = 1.5f;
            scatter.Color = color;
            if (!legendShown && series.Legend is not null) scatter.LegendText = series.Legend;
            legendShown = true;
        }
    }

    private void AddPoints(Plot plot, LabPlotSeries series, Color color)
    {
        var xs = new List<double>();
        var ys = new List<double>();
        var low = new List<double>();
        var high = new List<double>();
        for (int i = 0; i < series.Xs.Length; i++)
        {
            double y = Y(series.Ys[i]);
            if (!double.IsFinite(y) || !double.IsFinite(series.Xs[i])) continue;
            double e = double.IsFinite(series.YErrors![i]) ? Math.Max(0, series.YErrors[i]) : 0;
            xs.Add(series.Xs[i]);
            ys.Add(y);
            // On a log axis the bar spans log(y - e) .. log(y + e); a bar reaching zero stops at the axis bottom.
            low.Add(LogY ? y - (series.Ys[i] - e > 0 ? Math.Log10(series.Ys[i] - e) : y - 1) : e);
            high.Add(LogY ? Math.Log10(series.Ys[i] + e) - y : e);
        }
        if (xs.Count == 0) return;
        var bars = new ScottPlot.Plottables.ErrorBar(xs.ToArray(), ys.ToArray(), null, null, low.ToArray(), high.ToArray()) { Color = color };
        plot.Add.Plottable(bars);
        var points = plot.Add.Scatter(xs.ToArray(), ys.ToArray());
        points.LineWidth = 0;
        points.MarkerSize = 5;
        points.Color = color;
        if (series.Legend is not null) points.LegendText = series.Legend;
    }

    private void AddCurve(Plot plot, LabPlotSeries series, Color color)
    {
        var xs = new List<double>();
        var ys = new List<double>();
        for (int i = 0; i < series.Xs.Length; i++)
        {
            double y = Y(series.Ys[i]);
            if (!double.IsFinite(y)) continue;
            xs.Add(series.Xs[i]);
            ys.Add(y);
        }
        if (xs.Count < 2) return;
        var scatter = plot.Add.Scatter(xs.ToArray(), ys.ToArray());
        scatter.MarkerSize = 0;
        scatter.LineWidth = 2.5f;
        scatter.LinePattern = LinePattern.Dashed;
        scatter.Color = color;
        scatter.LegendText = series.Legend ?? "fit";
    }
}
