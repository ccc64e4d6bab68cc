namespace Qkd.Lab;

/// <summary>The wiring and physics a delay calibration needs; <see cref="For"/> takes them from a capture's truth.</summary>
public sealed record DelayCalibrationOptions
{
    public ushort SyncChannel { get; init; }
    public ushort[] DetectorChannels { get; init; } = [1, 2, 3, 4];
    /// <summary>Pulses per sync tag (sync tag k marks pulse k * SyncDivider).</summary>
    public int SyncDivider { get; init; } = 1024;
    /// <summary>Nominal pulse period, ps; the calibration measures the actual one from the sync tags.</summary>
    public double PulsePeriodPs { get; init; } = 1000;
    /// <summary>Expected light path from the transmitter to the detectors (the fibre), ps; subtracted before folding.</summary>
    public double PathDelayPs { get; init; }
    public long BinWidthPs { get; init; } = 10;
    /// <summary>Whole pulse periods searched either side of zero when resolving them from Alice's pattern.</summary>
    public int MaxWholePeriods { get; init; } = 32;
    /// <summary>Without Alice's pattern: the delay the result is taken closest to (cable lengths), ps.</summary>
    public double ExpectedDelayPs { get; init; }

    /// <summary>Options from a capture's truth (profile, link settings and tagger wiring); the defaults when the capture has none.</summary>
    public static DelayCalibrationOptions For(LabCapture capture, long binWidthPs = 10)
    {
        var options = new DelayCalibrationOptions { BinWidthPs = binWidthPs };
        if (capture.TaggerOptions is { } tagger && capture.Profile is { } profile)
            options = options with
            {
                SyncChannel = tagger.SyncChannel,
                SyncDivider = tagger.SyncDivider,
                DetectorChannels = Enumerable.Range(0, profile.DetectorCount).Select(d => (ushort)(tagger.FirstDetectorChannel + d)).ToArray(),
            };
        if (capture.Profile is { } p) options = options with { PathDelayPs = p.FibreDelayPs };
        if (capture.Settings is { } settings) options = options with { PulsePeriodPs = settings.PulsePeriodPs };
        return options;
    }

    public void Validate()
    {
        if (BinWidthPs < 1) throw new ArgumentOutOfRangeException(nameof(BinWidthPs), BinWidthPs, "The bin width must be at least 1 ps.");
        if (!(PulsePeriodPs >= 2 * BinWidthPs)) throw new ArgumentOutOfRangeException(nameof(PulsePeriodPs), PulsePeriodPs, "The pulse period must span at least two bins.");
        if (SyncDivider < 1) throw new ArgumentOutOfRangeException(nameof(SyncDivider), SyncDivider, "The sync divider must be at least 1.");
        if (DetectorChannels.Length == 0) throw new ArgumentException("No detector channels to calibrate.", nameof(DetectorChannels));
        if (DetectorChannels.Contains(SyncChannel)) throw new ArgumentException($"Sync channel {SyncChannel} is also listed as a detector channel.", nameof(DetectorChannels));
        if (MaxWholePeriods < 0 || MaxWholePeriods > 100_000) throw new ArgumentOutOfRangeException(nameof(MaxWholePeriods), MaxWholePeriods, "Must lie in [0, 100000].");
        if (!double.IsFinite(PathDelayPs) || !double.IsFinite(ExpectedDelayPs)) throw new ArgumentException("Path and expected delays must be finite.");
    }
}
