namespace Qkd.Calibration;

/// <summary>
/// Finds the peak of a histogram: the maximum bin first, then a Gaussian fitted by weighted least squares of a parabola
/// to ln(counts - background) over the bins within +-2 sigma of the centre, iterated (the window follows the fit).
/// Weights are the background-subtracted counts (the variance of ln N is 1/N for Poisson N), so the fit's covariance
/// gives the uncertainties directly. The background is the median bin (a peak covers a minority of a sensible
/// range). A peak narrower than a bin cannot take a parabola; then the centre is the centroid of the max bin and its
/// neighbours (method "centroid").
/// </summary>
public static class PeakFit
{
    private const int Iterations = 6;

    /// <summary>
    /// <see cref="Fit"/>, refused unless the histogram holds <see cref="DataMinimums.PeakCounts"/> entries and the peak
    /// stands <see cref="DataMinimums.PeakSignificance"/> standard deviations above the background.
    /// </summary>
    /// <param name="quantity">What the peak gives, for the refusal ("peak of channel 1 after channel 0").</param>
    /// <exception cref="InsufficientDataException">Too few entries, or no significant peak.</exception>
    public static GaussianPeak FitSupported(ReadOnlySpan<long> counts, double firstBinCentre, double binWidth, string quantity)
    {
        long total = 0;
        foreach (long c in counts) total += c;
        InsufficientDataException.ThrowIfAny([DataShortfall.Check(quantity, "histogram entries", total, DataMinimums.PeakCounts)]);
        var peak = Fit(counts, firstBinCentre, binWidth);
        InsufficientDataException.ThrowIfAny([Unsupported(peak, quantity)]);
        return peak!;
    }

    /// <summary>Why <paramref name="peak"/> is not a measurement (too few entries, not significant), or null when it is one.</summary>
    public static DataShortfall? Unsupported(GaussianPeak? peak, string quantity)
    {
        if (peak is null) return new DataShortfall(quantity, "histogram entries", 0, DataMinimums.PeakCounts);
        return DataShortfall.Check(quantity, "histogram entries", peak.HistogramCounts, DataMinimums.PeakCounts)
            // Significance grows as the square root of the counts: the factor of more data is its square.
            ?? (peak.Significance >= DataMinimums.PeakSignificance ? null
                : new DataShortfall(quantity, "histogram entries (for a peak 5 sigma above the background)", peak.HistogramCounts,
                    peak.HistogramCounts * Math.Pow(DataMinimums.PeakSignificance / Math.Max(peak.Significance, 0.5), 2)));
    }

    /// <param name="counts">Counts per bin.</param>
    /// <param name="firstBinCentre">Centre of bin 0, ps.</param>
    /// <param name="binWidth">Bin width, ps.</param>
    /// <returns>The peak, or null when the histogram is empty.</returns>
    public static GaussianPeak? Fit(ReadOnlySpan<long> counts, double firstBinCentre, double binWidth)
    {
        var peak = FitShape(counts, firstBinCentre, binWidth);
        return peak is null ? null : WithStatistics(peak, counts, firstBinCentre, binWidth);
    }

    /// <summary>The counts behind <paramref name="peak"/>: entries, window entries, excess over the background and its significance.</summary>
    private static GaussianPeak WithStatistics(GaussianPeak peak, ReadOnlySpan<long> counts, double firstBinCentre, double binWidth)
    {
        long total = 0;
        foreach (long c in counts) total += c;
        double halfWidth = double.IsFinite(peak.SigmaPs) ? 2 * peak.SigmaPs : 0;
        int centreBin = double.IsFinite(peak.CentrePs) ? (int)Math.Round((peak.CentrePs - firstBinCentre) / binWidth) : peak.MaxBin;
        centreBin = Math.Clamp(centreBin, 0, counts.Length - 1);
        int reach = Math.Max(1, (int)Math.Ceiling(halfWidth / binWidth));
        int from = Math.Max(0, Math.Min(centreBin, peak.MaxBin) - reach), to = Math.Min(counts.Length - 1, Math.Max(centreBin, peak.MaxBin) + reach);
        long window = 0;
        for (int i = from; i <= to; i++) window += counts[i];
        double excess = window - peak.Background * (to - from + 1);
        double significance = excess / Math.Sqrt(Math.Max(1, window));
        return peak with { HistogramCounts = total, WindowCounts = window, ExcessCounts = excess, Significance = significance };
    }

    private static GaussianPeak? FitShape(ReadOnlySpan<long> counts, double firstBinCentre, double binWidth)
    {
        if (!(binWidth > 0)) throw new ArgumentOutOfRangeException(nameof(binWidth), binWidth, "The bin width must be > 0.");
        if (counts.Length == 0) return null;
        int max = 0;
        for (int i = 1; i < counts.Length; i++) if (counts[i] > counts[max]) max = i;
        if (counts[max] == 0) return null;
        double background = Median(counts);
        double peak = counts[max] - background;
        double X(int i) => firstBinCentre + i * binWidth;
        if (peak <= 0) return Centroid(counts, max, background, X, binWidth);

        // Start: width from the half-maximum crossings, centre at the max bin.
        int left = max, right = max;
        while (left > 0 && counts[left - 1] - background > peak / 2) left--;
        while (right < counts.Length - 1 && counts[right + 1] - background > peak / 2) right++;
        double sigma = Math.Max(binWidth * 0.5, (right - left + 1) * binWidth / 2.3548);
        double centre = X(max);
        GaussianPeak? best = null;
        for (int iteration = 0; iteration < Iterations; iteration++)
        {
            int from = Math.Max(0, (int)Math.Floor((centre - 2 * sigma - firstBinCentre) / binWidth));
            int to = Math.Min(counts.Length - 1, (int)Math.Ceiling((centre + 2 * sigma - firstBinCentre) / binWidth));
            var fit = FitLogParabola(counts, from, to, background, X(max), X, max, binWidth);
            if (fit is null) break;
            best = fit;
            // Stop once the window is stable to a hundredth of a bin.
            bool settled = Math.Abs(fit.CentrePs - centre) < binWidth / 100 && Math.Abs(fit.SigmaPs - sigma) < binWidth / 100;
            centre = fit.CentrePs;
            sigma = fit.SigmaPs;
            if (settled) break;
        }
        return best ?? Centroid(counts, max, background, X, binWidth);
    }

    /// <summary>Weighted least squares of ln(n - b) = c0 + c1 u + c2 u^2, u = x - origin; null when it is no peak.</summary>
    private static GaussianPeak? FitLogParabola(ReadOnlySpan<long> counts, int from, int to, double background, double origin,
        Func<int, double> x, int maxBin, double binWidth)
    {
        // Normal equations (3x3) accumulated over the window.
        Span<double> m = stackalloc double[9];
        Span<double> r = stackalloc double[3];
        int used = 0;
        for (int i = from; i <= to; i++)
        {
            double n = counts[i] - background;
            if (n < 1) continue;
            double u = (x(i) - origin) / binWidth; // in bins, for conditioning
            double y = Math.Log(n);
            double w = n;
            double u2 = u * u;
            m[0] += w; m[1] += w * u; m[2] += w * u2;
            m[4] += w * u2; m[5] += w * u2 * u; m[8] += w * u2 * u2;
            r[0] += w * y; r[1] += w * u * y; r[2] += w * u2 * y;
            used++;
        }
        if (used < 3) return null;
        m[3] = m[1]; m[6] = m[2]; m[7] = m[5];
        if (!Invert3(m, out var inv)) return null;
        double c0 = inv[0] * r[0] + inv[1] * r[1] + inv[2] * r[2];
        double c1 = inv[3] * r[0] + inv[4] * r[1] + inv[5] * r[2];
        double c2 = inv[6] * r[0] + inv[7] * r[1] + inv[8] * r[2];
        if (!(c2 < 0)) return null;
        double mu = -c1 / (2 * c2);
        double sigma = Math.Sqrt(-1 / (2 * c2));
        double amplitude = Math.Exp(c0 - c1 * c1 / (4 * c2));
        // Gradients of (mu, sigma, A) with respect to (c0, c1, c2), then J C J^T.
        double[] gMu = [0, -1 / (2 * c2), c1 / (2 * c2 * c2)];
        double[] gSigma = [0, 0, Math.Pow(-2 * c2, -1.5)];
        double[] gA = [amplitude, -amplitude * c1 / (2 * c2), amplitude * c1 * c1 / (4 * c2 * c2)];
        double Var(double[] g)
        {
            double v = 0;
            for (int a = 0; a < 3; a++)
                for (int b = 0; b < 3; b++)
                    v += g[a] * inv[a * 3 + b] * g[b];
            return v;
        }
        if (Math.Abs(mu) > (to - from + 1)) return null; // vertex far outside the window: not a peak
        return new GaussianPeak(origin + mu * binWidth, Math.Sqrt(Var(gMu)) * binWidth, sigma * binWidth, Math.Sqrt(Var(gSigma)) * binWidth,
            amplitude, Math.Sqrt(Var(gA)), background, maxBin, x(maxBin), used, "gaussian");
    }

    private static GaussianPeak Centroid(ReadOnlySpan<long> counts, int max, double background, Func<int, double> x, double binWidth)
    {
        double sum = 0, moment = 0, second = 0;
        int used = 0;
        for (int i = Math.Max(0, max - 1); i <= Math.Min(counts.Length - 1, max + 1); i++)
        {
            double n = Math.Max(0, counts[i] - background);
            sum += n;
            moment += n * x(i);
            second += n * x(i) * x(i);
            used++;
        }
        double centre = sum > 0 ? moment / sum : x(max);
        double sigma = sum > 0 ? Math.Sqrt(Math.Max(second / sum - centre * centre, binWidth * binWidth / 12)) : binWidth / Math.Sqrt(12);
        return new GaussianPeak(centre, sum > 0 ? sigma / Math.Sqrt(sum) : double.NaN, sigma, double.NaN, counts[max] - background, double.NaN,
            background, max, x(max), used, "centroid");
    }

    private static double Median(ReadOnlySpan<long> counts)
    {
        var copy = counts.ToArray();
        Array.Sort(copy);
        int n = copy.Length;
        return n % 2 == 1 ? copy[n / 2] : (copy[n / 2 - 1] + copy[n / 2]) / 2.0;
    }

    private static bool Invert3(ReadOnlySpan<double> a, out double[] inv)
    {
        inv = new double[9];
        double det = a[0] * (a[4] * a[8] - a[5] * a[7]) - a[1] * (a[3] * a[8] - a[5] * a[6]) + a[2] * (a[3] * a[7] - a[4] * a[6]);
        if (!(Math.Abs(det) > 1e-300)) return false;
        inv[0] = (a[4] * a[8] - a[5] * a[7]) / det;
        inv[1] = (a[2] * a[7] - a[1] * a[8]) / det;
        inv[2] = (a[1] * a[5] - a[2] * a[4]) / det;
        inv[3] = (a[5] * a[6] - a[3] * a[8]) / det;
        inv[4] = (a[0] * a[8] - a[2] * a[6]) / det;
        inv[5] = (a[2] * a[3] - a[0] * a[5]) / det;
        inv[6] = (a[3] * a[7] - a[4] * a[6]) / det;
        inv[7] = (a[1] * a[6] - a[0] * a[7]) / det;
        inv[8] = (a[0] * a[4] - a[1] * a[3]) / det;
        return true;
    }
}
