namespace Qkd.Calibration;

/// <summary>
/// The least data each fit and estimate accepts; below it the analysis refuses with an
/// <see cref="InsufficientDataException"/> rather than publish noise. The README's "Minimum data" table lists these
/// with the reasons; a test pins each one.
/// </summary>
public static class DataMinimums
{
    /// <summary>
    /// Histogram entries before a peak is fitted (<see cref="PeakFit.FitSupported"/>): with 100 counts the centre of a
    /// Gaussian is known to a tenth of its width, and the median background is more than one stray count.
    /// </summary>
    public const long PeakCounts = 100;

    /// <summary>
    /// The peak's excess over the background within two widths of its centre, in standard deviations of the counts
    /// there (<see cref="GaussianPeak.Significance"/>): below 5 the "peak" may be the highest noise bin.
    /// </summary>
    public const double PeakSignificance = 5;

    /// <summary>Tags folded per detector channel before its delay is fitted (<see cref="DelayFit"/>); as <see cref="PeakCounts"/>.</summary>
    public const long DelayTagsPerChannel = 100;

    /// <summary>
    /// In-peak clicks that would fall on Alice's vacuum pulses under a wrong whole-period shift (in-peak clicks times
    /// the median vacuum share of the other shifts, <see cref="WholePeriods"/>): the right shift has almost none, and
    /// with 10 expected elsewhere the chance that one of 64 wrong shifts also shows none is below 0.3 %.
    /// </summary>
    public const double WholePeriodVacuumClicks = 10;

    /// <summary>Clicks per detector channel for a dark-count (primary) rate: its Poisson uncertainty is then at most 10 %.</summary>
    public const long RateClicks = 100;

    /// <summary>
    /// Click-to-next-click intervals per channel before afterpulsing is estimated (<see cref="AfterpulseFit"/>): the
    /// background under the afterpulses is extrapolated from the tail, which needs hundreds of counts of its own.
    /// </summary>
    public const long AfterpulseIntervals = 1000;

    /// <summary>The interval histogram's level at the dead-time edge, counts per bin (<see cref="DeadTimeEstimate.MinimumLevelCounts"/>).</summary>
    public const double DeadTimeLevelCounts = DeadTimeEstimate.MinimumLevelCounts;

    /// <summary>Clicks per channel in the capture with light before an efficiency is estimated (10 % counting error per head).</summary>
    public const long EfficiencyClicks = 100;
}
