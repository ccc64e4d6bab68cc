using ScottPlot;

namespace Qkd.Lab;

/// <summary>
/// PNG plots for the lab tools (ScottPlot): a title, axis labels with units, the data as a step curve and fitted values
/// as labelled vertical lines, readable at a glance.
/// </summary>
public sealed class LabPlot
{
    private readonly Plot _plot = new();
    private int _markers;

    /// <param name="title">What the plot shows ("Detector 1 vs sync").</param>
    /// <param name="xLabel">X axis with its unit ("t_stop - t_start (ps)").</param>
    /// <param name="yLabel">Y axis with its unit ("counts per 10 ps bin").</param>
    public LabPlot(string title, string xLabel, string yLabel)
    {
        _plot.Title(title);
        _plot.XLabel(xLabel);
        _plot.YLabel(yLabel);
    }

    /// <summary>A histogram as a step curve over bin left edges <paramref name="edges"/> (length n) with width <paramref name="binWidth"/>.</summary>
    public LabPlot Histogram(ReadOnlySpan<double> edges, ReadOnlySpan<double> values, double binWidth, string? legend = null)
    {
        if (edges.Length != values.Length) throw new ArgumentException("One value per bin edge.", nameof(values));
        // Step curve: each bin drawn flat from its left to its right edge.
        var xs = new double[values.Length * 2];
        var ys = new double[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
        {
            xs[2 * i] = edges[i];
            xs[2 * i + 1] = edges[i] + binWidth;
            ys[2 * i] = ys[2 * i + 1] = values[i];
        }
        var scatter = _plot.Add.Scatter(xs, ys);
        scatter.MarkerSize = 0;
        scatter.LineWidth = 1.5f;
        if (legend is not null) scatter.LegendText = legend;
        return this;
    }

    /// <summary>A smooth curve (a fitted model) through (<paramref name="xs"/>, <paramref name="ys"/>).</summary>
    public LabPlot Curve(double[] xs, double[] ys, string legend)
    {
        var scatter = _plot.Add.Scatter(xs, ys);
        scatter.MarkerSize = 0;
        scatter.LineWidth = 2;
        scatter.LinePattern = LinePattern.Dashed;
        scatter.LegendText = legend;
        return this;
    }

    /// <summary>A vertical line at <paramref name="x"/> labelled with <paramref name="label"/> (a fitted value with its unit).</summary>
    public LabPlot Marker(double x, string label)
    {
        if (!double.IsFinite(x)) return this;
        var line = _plot.Add.VerticalLine(x);
        line.LineWidth = 2;
        line.LinePattern = LinePattern.Dashed;
        line.Color = _markers++ % 2 == 0 ? Colors.Red : Colors.DarkGreen;
        line.LegendText = label;
        line.LabelText = label;
        return this;
    }

    /// <summary>A horizontal reference line (e.g. g2 = 1, the accidental level).</summary>
    public LabPlot Level(double y, string label)
    {
        var line = _plot.Add.HorizontalLine(y);
        line.LineWidth = 1;
        line.LinePattern = LinePattern.Dotted;
        line.Color = Colors.Gray;
        line.LegendText = label;
        return this;
    }

    /// <summary>Renders to <paramref name="path"/> (creating the folder) and returns the path.</summary>
    public string SavePng(string path, int width = 1000, int height = 600)
    {
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        _plot.ShowLegend(Alignment.UpperRight);
        _plot.SavePng(path, width, height);
        return path;
    }
}
