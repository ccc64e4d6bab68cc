using Qkd.Core.TimeTags;

namespace Qkd.Calibration;

/// <summary>
/// Folds detector-minus-sync times onto the pulse period. The sync comes once per <c>SyncDivider</c> pulses (1024) and
/// the pulses are a period T apart (1 ns), so a detector tag minus its preceding sync tag is a comb of peaks, one per
/// pulse slot, whose common phase is the detector's delay. Folding that difference onto T (after subtracting the known
/// light path, the fibre) stacks every slot onto one sharp peak of the detector jitter's width. T has to be the period
/// measured on the receiver's clock (<see cref="SyncPeriod"/>), and the path delay scaled to that clock, or the drift
/// smears the fold.
/// </summary>
/// <param name="SyncChannel">The tagger input of the sync.</param>
/// <param name="PathDelayPs">The light path subtracted before folding, on the receiver's clock, ps.</param>
/// <param name="PulsePeriodPs">T, ps.</param>
/// <param name="BinWidthPs">Width of a folded bin, ps.</param>
public readonly record struct DelayFold(ushort SyncChannel, double PathDelayPs, double PulsePeriodPs, long BinWidthPs)
{
    /// <summary>Bins covering one period (the last one may reach past it).</summary>
    public int Bins => (int)Math.Ceiling(PulsePeriodPs / BinWidthPs);

    /// <summary>
    /// Folds (tag - preceding sync - path) of <paramref name="channel"/> into [<paramref name="windowStartPs"/>,
    /// <paramref name="windowStartPs"/> + T) and counts it into <paramref name="counts"/> (bins of <see cref="BinWidthPs"/>;
    /// a phase beyond the last bin goes into it). Tags before the first sync have no sync to refer to and are skipped.
    /// </summary>
    /// <returns>The tags folded.</returns>
    public long Fold(ReadOnlySpan<TimeTag> tags, ushort channel, double windowStartPs, Span<long> counts)
    {
        Validate();
        if (counts.Length == 0) throw new ArgumentException("At least one bin is needed.", nameof(counts));
        double period = PulsePeriodPs;
        long lastSync = long.MinValue, folded = 0;
        foreach (ref readonly var tag in tags)
        {
            if (!tag.IsEvent) continue;
            if (tag.Channel == SyncChannel) { lastSync = tag.TimePs; continue; }
            if (tag.Channel != channel || lastSync == long.MinValue) continue;
            double x = tag.TimePs - lastSync - PathDelayPs - windowStartPs;
            double phase = x - Math.Floor(x / period) * period;
            int bin = (int)(phase / BinWidthPs);
            if (bin >= counts.Length) bin = counts.Length - 1;
            counts[bin]++;
            folded++;
        }
        return folded;
    }

    /// <summary>
    /// Two passes: a coarse fold onto [0, T) finds the fullest bin; the tags are folded again into one period centred
    /// on it, so a peak near 0 or T is never split between the window's ends (where a fit would see two half peaks).
    /// </summary>
    public FoldedHistogram Centred(ReadOnlySpan<TimeTag> tags, ushort channel)
    {
        Validate();
        int bins = Bins;
        var coarse = new long[bins];
        long folded = Fold(tags, channel, 0, coarse);
        int max = 0;
        for (int i = 1; i < bins; i++) if (coarse[i] > coarse[max]) max = i;
        double windowStart = (max + 0.5) * BinWidthPs - PulsePeriodPs / 2;
        var fine = new long[bins];
        Fold(tags, channel, windowStart, fine);
        return new FoldedHistogram(channel, folded, windowStart, BinWidthPs, fine);
    }

    private void Validate()
    {
        if (BinWidthPs < 1) throw new ArgumentOutOfRangeException(nameof(BinWidthPs), BinWidthPs, "The bin width must be at least 1 ps.");
        if (!(PulsePeriodPs >= BinWidthPs) || !double.IsFinite(PulsePeriodPs))
            throw new ArgumentOutOfRangeException(nameof(PulsePeriodPs), PulsePeriodPs, "The pulse period must be finite and span at least one bin.");
        if (!double.IsFinite(PathDelayPs)) throw new ArgumentOutOfRangeException(nameof(PathDelayPs), PathDelayPs, "The path delay must be finite.");
    }
}
