using System.Globalization;
using Qkd.Core.TimeTags;

namespace Qkd.Calibration;

/// <summary>
/// Finds each detector channel's delay relative to the sync channel from one capture's tags: the pulse period from the
/// sync tags (<see cref="SyncPeriod"/>), each detector's tags folded onto it after subtracting the light path
/// (<see cref="DelayFold"/>), the folded peak's sub-bin phase f (<see cref="PeakFit"/>) and the whole periods q
/// (<see cref="WholePeriods"/>): delay = q T + f, ps.
/// </summary>
/// <remarks>
/// The fibre delay is a length of light time; the receiver's clock counts it at its own rate, as it counts the period
/// (5 ppm of 122 us of fibre is 612 ps: far more than a bin), so it is scaled by the measured period over the nominal
/// one before it is subtracted.
/// </remarks>
public static class DelayFit
{
    /// <summary>The largest relative difference between the measured and the nominal period accepted as the same clock.</summary>
    public const double PeriodTolerance = 0.01;

    /// <param name="Sync">The sync tags the period was measured from.</param>
    /// <param name="PulsePeriodPs">T, measured, ps.</param>
    /// <param name="PathDelayPs">The light path subtracted before folding, scaled to the receiver's clock, ps.</param>
    /// <param name="Detectors">One per detector channel, in the options' order.</param>
    public sealed record Result(SyncPeriod Sync, double PulsePeriodPs, double PathDelayPs, IReadOnlyList<DetectorDelay> Detectors);

    /// <summary>Measures the period from <paramref name="tags"/>' sync channel, then fits every detector channel.</summary>
    /// <param name="isVacuumPulse">Alice's pattern (whether pulse i was vacuum), when known; null: whole periods from <see cref="DelayCalibrationOptions.ExpectedDelayPs"/>.</param>
    public static Result Fit(ReadOnlySpan<TimeTag> tags, DelayCalibrationOptions options, Func<long, bool>? isVacuumPulse = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Fit(tags, options, SyncPeriod.Measure(tags, options.SyncChannel, options.SyncDivider), isVacuumPulse);
    }

    /// <param name="sync">The sync tags of <paramref name="tags"/>, measured with the options' channel and divider.</param>
    /// <exception cref="InsufficientDataException">A detector channel's delay is not supported by its data (<see cref="Shortfalls"/>).</exception>
    /// <exception cref="ArgumentException">Fewer than two sync tags, or a period more than 1 % off the nominal one (wrong sync channel or divider).</exception>
    public static Result Fit(ReadOnlySpan<TimeTag> tags, DelayCalibrationOptions options, SyncPeriod sync, Func<long, bool>? isVacuumPulse)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (sync.SyncChannel != options.SyncChannel || sync.SyncDivider != options.SyncDivider)
            throw new ArgumentException($"The sync was measured on channel {sync.SyncChannel} with divider {sync.SyncDivider}, not channel {options.SyncChannel} with divider {options.SyncDivider}.", nameof(sync));
        if (!sync.IsMeasured)
            throw new ArgumentException($"{sync.SyncTags} tags on sync channel {options.SyncChannel}; at least two are needed to measure the pulse period.", nameof(sync));
        double period = sync.PulsePeriodPs;
        if (Math.Abs(period / options.PulsePeriodPs - 1) > PeriodTolerance)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The sync tags give a pulse period of {period:F3} ps, not the nominal {options.PulsePeriodPs} ps: check the sync channel and divider."));
        var fold = new DelayFold(options.SyncChannel, options.PathDelayPs * period / options.PulsePeriodPs, period, options.BinWidthPs);
        var detectors = new DetectorDelay[options.DetectorChannels.Length];
        for (int d = 0; d < detectors.Length; d++)
            detectors[d] = FitChannel(tags, fold, options, options.DetectorChannels[d], isVacuumPulse);
        // A calibration with one channel unsupported is no calibration: refuse it whole, naming every short channel.
        InsufficientDataException.ThrowIfAny(detectors.SelectMany(Shortfalls));
        return new Result(sync, period, fold.PathDelayPs, detectors);
    }

    /// <summary>
    /// Why <paramref name="detector"/>'s delay is not supported by its data: fewer than
    /// <see cref="DataMinimums.DelayTagsPerChannel"/> tags folded, a peak not significant
    /// (<see cref="PeakFit.Unsupported"/>), or whole periods from Alice's pattern with too little contrast
    /// (<see cref="DataMinimums.WholePeriodVacuumClicks"/>). Empty when it is supported.
    /// </summary>
    public static IEnumerable<DataShortfall?> Shortfalls(DetectorDelay detector)
    {
        ArgumentNullException.ThrowIfNull(detector);
        string quantity = $"delay of channel {detector.Channel}";
        var tags = DataShortfall.Check(quantity, "tags folded", detector.Folded.Tags, DataMinimums.DelayTagsPerChannel);
        if (tags is not null)
        {
            yield return tags;
            yield break;
        }
        var peak = PeakFit.Unsupported(detector.Peak, quantity);
        if (peak is not null)
        {
            yield return peak;
            yield break;
        }
        var whole = detector.WholePeriods;
        if (whole.ResolvedBy == WholePeriodsResolution.AlicePattern && whole.VacuumClicksElsewhere < DataMinimums.WholePeriodVacuumClicks)
            // The expected vacuum clicks scale with the clicks: say it in clicks, the unit the capture gives.
            yield return new DataShortfall($"whole periods of channel {detector.Channel}", "in-peak clicks on Alice's pattern", whole.InPeakClicks,
                whole.InPeakClicks > 0 && whole.VacuumClicksElsewhere > 0
                    ? Math.Ceiling(whole.InPeakClicks * DataMinimums.WholePeriodVacuumClicks / whole.VacuumClicksElsewhere)
                    : DataMinimums.DelayTagsPerChannel);
    }

    private static DetectorDelay FitChannel(ReadOnlySpan<TimeTag> tags, DelayFold fold, DelayCalibrationOptions options, ushort channel,
        Func<long, bool>? isVacuumPulse)
    {
        var folded = fold.Centred(tags, channel);
        var peak = folded.Tags == 0 ? null : PeakFit.Fit(folded.Counts, folded.FirstBinCentrePs, folded.BinWidthPs);
        if (peak is null) return new DetectorDelay(folded, null, WholePeriods.Unresolved, null);
        double f = peak.CentrePs;
        // In-peak clicks: within three peak widths, and never narrower than a bin (a centroid's sigma can be tiny).
        var whole = isVacuumPulse is not null
            ? WholePeriods.FromVacuumPulses(tags, fold, options.SyncDivider, channel, f, Math.Max(peak.SigmaPs, fold.BinWidthPs), options.MaxWholePeriods, isVacuumPulse)
            : WholePeriods.FromExpectedDelay(options.ExpectedDelayPs, f, fold.PulsePeriodPs);
        return new DetectorDelay(folded, peak, whole, whole.Count * fold.PulsePeriodPs + f);
    }
}
