namespace Qkd.Lab;

/// <summary>One refresh of `qkd monitor`: rates over the last interval, cumulative losses, and the live QBER.</summary>
/// <param name="Elapsed">Wall time since the monitor started.</param>
/// <param name="RatesHz">Tags per second of link (tagger) time per input channel over the last interval (index = channel).</param>
/// <param name="SyncRateHz">Sync tags per second.</param>
/// <param name="RingFill">Tags waiting in the acquisition ring, and its capacity.</param>
/// <param name="Dropped">Tags lost so far by any cause the stack counts (ring drops, device overflows, lost frames).</param>
/// <param name="QberZ">QBER of the Z basis since the start (sifted against the emission log), null before the first sifted bit.</param>
public sealed record MonitorSnapshot(TimeSpan Elapsed, IReadOnlyList<double> RatesHz, double SyncRateHz, int RingFill, int RingCapacity,
    long Dropped, long Overflows, double? QberZ, double? QberX, long Detections)
{
    /// <summary>Link (tagger) time the rates were counted over, s: with the rates, the counts behind them.</summary>
    public double IntervalSeconds { get; init; }

    /// <summary>Sifted bits in Z since the start: the count behind <see cref="QberZ"/>.</summary>
    public long SiftedZ { get; init; }

    /// <summary>Sifted bits in X since the start: the count behind <see cref="QberX"/>.</summary>
    public long SiftedX { get; init; }

    /// <summary>One standard deviation of the rate of <paramref name="channel"/>: sqrt(counts) over the interval, Hz.</summary>
    public double RateUncertaintyHz(int channel) =>
        channel < RatesHz.Count && IntervalSeconds > 0 ? Calibration.CountRateMeter.Uncertainty((long)Math.Round(RatesHz[channel] * IntervalSeconds), IntervalSeconds) : double.NaN;

    /// <summary>One standard deviation of a QBER <paramref name="qber"/> over <paramref name="sifted"/> bits (binomial); NaN without bits.</summary>
    public static double QberUncertainty(double? qber, long sifted) =>
        qber is double q && sifted > 0 ? Math.Sqrt(Math.Max(q * (1 - q), 1.0 / sifted) / sifted) : double.NaN;
}
