using Qkd.Core.TimeTags;

namespace Qkd.Calibration;

/// <summary>
/// Folding leaves a delay known only modulo the pulse period: delay = q T + f with f the folded centre and q unknown.
/// When Alice's pulse pattern is known (emulator, or a recording with its seed), q is the shift under which the fewest
/// in-peak clicks fall on vacuum pulses, since a vacuum pulse only gives dark counts (<see cref="FromVacuumPulses"/>).
/// Otherwise q puts the delay closest to an expected one from the cable lengths (<see cref="FromExpectedDelay"/>),
/// which is only right when that guess is within half a period.
/// </summary>
/// <param name="Count">q, whole periods (0 when unresolved).</param>
/// <param name="VacuumClickFraction">Share of the in-peak clicks on vacuum pulses under q; NaN unless resolved from the pattern (or when no click could be placed).</param>
/// <param name="VacuumClickFractionElsewhere">The median share under the other shifts searched: the contrast q won by; NaN as above, or when no other shift was searched.</param>
public readonly record struct WholePeriods(long Count, WholePeriodsResolution ResolvedBy, double VacuumClickFraction, double VacuumClickFractionElsewhere)
{
    /// <summary>In-peak clicks placed on pulses under <see cref="Count"/> (from Alice's pattern; 0 otherwise).</summary>
    public long InPeakClicks { get; init; }

    /// <summary>
    /// In-peak clicks a wrong shift would put on vacuum pulses (<see cref="InPeakClicks"/> times
    /// <see cref="VacuumClickFractionElsewhere"/>): the contrast the shift was chosen by; 0 when not from the pattern.
    /// </summary>
    public double VacuumClicksElsewhere => double.IsFinite(VacuumClickFractionElsewhere) ? InPeakClicks * VacuumClickFractionElsewhere : 0;

    /// <summary>No peak: nothing to resolve.</summary>
    public static WholePeriods Unresolved => new(0, WholePeriodsResolution.None, double.NaN, double.NaN);

    /// <summary>The q that puts q T + <paramref name="foldedCentrePs"/> closest to <paramref name="expectedDelayPs"/>.</summary>
    public static WholePeriods FromExpectedDelay(double expectedDelayPs, double foldedCentrePs, double periodPs) =>
        new((long)Math.Round((expectedDelayPs - foldedCentrePs) / periodPs), WholePeriodsResolution.ExpectedDelay, double.NaN, double.NaN);

    /// <summary>
    /// Under the right q each in-peak click sits on the pulse that caused it, and vacuum pulses give (almost) no
    /// clicks. Sync tag k marks pulse k * <paramref name="syncDivider"/> (counting from the first sync tag in
    /// <paramref name="tags"/>); clicks more than three peak widths off the peak (dark counts, afterpulses) are not used.
    /// </summary>
    /// <param name="fold">The fold that gave <paramref name="foldedCentrePs"/>.</param>
    /// <param name="peakWidthPs">The peak's width (its sigma, at least a bin), ps.</param>
    /// <param name="maxWholePeriods">Shifts searched either side of zero.</param>
    /// <param name="isVacuumPulse">Whether Alice sent vacuum in a pulse, by pulse index.</param>
    public static WholePeriods FromVacuumPulses(ReadOnlySpan<TimeTag> tags, DelayFold fold, int syncDivider, ushort channel,
        double foldedCentrePs, double peakWidthPs, int maxWholePeriods, Func<long, bool> isVacuumPulse)
    {
        ArgumentNullException.ThrowIfNull(isVacuumPulse);
        ArgumentOutOfRangeException.ThrowIfLessThan(syncDivider, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(maxWholePeriods);
        int m = maxWholePeriods;
        double period = fold.PulsePeriodPs;
        var vacuum = new long[2 * m + 1];
        var total = new long[2 * m + 1];
        long lastSync = long.MinValue, syncIndex = -1;
        foreach (ref readonly var tag in tags)
        {
            if (!tag.IsEvent) continue;
            if (tag.Channel == fold.SyncChannel) { lastSync = tag.TimePs; syncIndex++; continue; }
            if (tag.Channel != channel || lastSync == long.MinValue) continue;
            double x = tag.TimePs - lastSync - fold.PathDelayPs - foldedCentrePs;
            long slot = (long)Math.Round(x / period);
            if (Math.Abs(x - slot * period) > 3 * peakWidthPs) continue; // off the peak: dark counts, afterpulses
            long basePulse = syncIndex * syncDivider + slot;
            for (int q = -m; q <= m; q++)
            {
                long pulse = basePulse - q;
                if (pulse < 0) continue;
                total[q + m]++;
                if (isVacuumPulse(pulse)) vacuum[q + m]++;
            }
        }
        var fractions = Enumerable.Range(0, 2 * m + 1).Select(i => total[i] > 0 ? (double)vacuum[i] / total[i] : double.NaN).ToArray();
        int best = -1;
        for (int i = 0; i < fractions.Length; i++)
            if (!double.IsNaN(fractions[i]) && (best < 0 || fractions[i] < fractions[best])) best = i;
        if (best < 0) return new WholePeriods(0, WholePeriodsResolution.AlicePattern, double.NaN, double.NaN);
        var others = fractions.Where((v, i) => i != best && !double.IsNaN(v)).Order().ToArray();
        return new WholePeriods(best - m, WholePeriodsResolution.AlicePattern, fractions[best], others.Length == 0 ? double.NaN : others[others.Length / 2])
        {
            InPeakClicks = total[best],
        };
    }
}
