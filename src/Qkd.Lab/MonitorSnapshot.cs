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
    /// <summary>Standard uncertainty of <see cref="QberZ"/> (Calibration's QberTally.Uncertainty); null with it.</summary>
    public double? QberZUncertainty { get; init; }

    public double? QberXUncertainty { get; init; }

    /// <summary>Bits sifted in Z since the start (what <see cref="QberZ"/> is measured on).</summary>
    public long SiftedZ { get; init; }

    public long SiftedX { get; init; }

    /// <summary>
    /// Share of the detector tags placed so far that fell inside the acceptance gate of their pulse slot; null before
    /// the first. Far below 1 (with dark counts the only tags left) the receiver timing is wrong: calibrate the delays.
    /// </summary>
    public double? InGateFraction { get; init; }

    /// <summary>Link (tagger) time the rates were counted over, s: with the rates, the counts behind them.</summary>
    public double IntervalSeconds { get; init; }

    /// <summary>One standard deviation of the rate of <paramref name="channel"/>: sqrt(counts) over the interval, Hz.</summary>
    public double RateUncertaintyHz(int channel) =>
        channel < RatesHz.Count && IntervalSeconds > 0 ? Calibration.CountRateMeter.Uncertainty((long)Math.Round(RatesHz[channel] * IntervalSeconds), IntervalSeconds) : double.NaN;

}
