namespace Qkd.Calibration;

/// <summary>
/// One detector channel's tags folded onto one pulse period (<see cref="DelayFold"/>): bin i counts the folded times in
/// [<see cref="WindowStartPs"/> + i w, <see cref="WindowStartPs"/> + (i + 1) w), the window one period long and
/// centred on the peak, so the peak is never split across its ends.
/// </summary>
/// <param name="Channel">The detector's tagger input.</param>
/// <param name="Tags">Detector tags folded (those after the first sync tag).</param>
/// <param name="WindowStartPs">Left edge of bin 0, ps (detector - sync - path, modulo the period).</param>
/// <param name="BinWidthPs">w, ps.</param>
/// <param name="Counts">Tags per bin.</param>
public sealed record FoldedHistogram(ushort Channel, long Tags, double WindowStartPs, long BinWidthPs, long[] Counts)
{
    public double FirstBinCentrePs => WindowStartPs + BinWidthPs / 2.0;
}
