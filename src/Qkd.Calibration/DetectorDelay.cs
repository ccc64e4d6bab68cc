namespace Qkd.Calibration;

/// <summary>One detector channel's delay relative to the sync channel (<see cref="DelayFit"/>).</summary>
/// <param name="Folded">The channel's tags folded onto the pulse period: what the fit saw.</param>
/// <param name="Peak">The folded peak (<see cref="PeakFit"/>): its centre is the sub-period phase f; null when no tag was folded.</param>
/// <param name="WholePeriods">q, the whole pulse periods of the delay, and how they were found.</param>
/// <param name="DelayPs">q T + f: the detector input's delay minus the sync input's delay, ps; null without a peak.</param>
public sealed record DetectorDelay(FoldedHistogram Folded, GaussianPeak? Peak, WholePeriods WholePeriods, double? DelayPs)
{
    public ushort Channel => Folded.Channel;
}
