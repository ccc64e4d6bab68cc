namespace Qkd.Emulation.TimeTagging;

/// <summary>
/// How the emulated time tagger at Bob is wired: which input carries Alice's divided-down clock (sync) and which the
/// detectors, the cable delays of each input, the sync path's jitter, free-running detector noise, and where the run
/// ends. Delays are what calibration has to find, so tests set them to something other than zero.
/// </summary>
public sealed record EmulatedTimeTaggerOptions
{
    /// <summary>Tagger input that receives Alice's sync (her pulse clock divided by <see cref="SyncDivider"/>).</summary>
    public ushort SyncChannel { get; init; } = 0;

    /// <summary>Tagger input of detector 0; detector d is on <c>FirstDetectorChannel + d</c>.</summary>
    public ushort FirstDetectorChannel { get; init; } = 1;

    /// <summary>
    /// One sync tag every this many pulses. The k-th sync tag marks pulse <c>k * SyncDivider</c>: the first sync tag of
    /// the stream is pulse 0 (the convention Qkd.Acquisition's ClockRecovery relies on to anchor pulse indices).
    /// </summary>
    public int SyncDivider { get; init; } = 1024;

    /// <summary>Delay of the sync path (cable, electronics) on top of the pulse's emission time on Bob's clock, ps.</summary>
    public long SyncDelayPs { get; init; }

    /// <summary>RMS Gaussian jitter of the sync tags, ps.</summary>
    public double SyncJitterRmsPs { get; init; } = 10;

    /// <summary>
    /// Cable delay of each detector input, ps, indexed by detector; null means all zero. Added to the link's click time.
    /// </summary>
    public long[]? DetectorDelaysPs { get; init; }

    /// <summary>
    /// Free-running dark-count rate of each detector, per second: extra tags at uniformly random times (a Poisson
    /// process), independent of the pulse slots. The link's own dark counts (darkCountProbabilityPerPulse) are gated,
    /// in-slot events; these model noise that a time gate has to reject. Dead time does not apply to them.
    /// </summary>
    public double DarkCountRateHz { get; init; }

    /// <summary>
    /// End of the run: the stream holds the tags of pulses below this index (and sync tags of multiples of the divider
    /// below it, and free-running dark counts up to that pulse's arrival time), then <c>Read</c> returns 0.
    /// <see cref="long.MaxValue"/> runs for ever.
    /// </summary>
    public long EndPulse { get; init; } = long.MaxValue;

    /// <summary>
    /// Tagger input wired to an active receiver's basis-marker output (one tag at the slot where Bob's basis pattern
    /// starts); null: not wired (passive receivers have none).
    /// </summary>
    public ushort? BasisMarkerChannel { get; init; }

    /// <summary>Delay of the basis-marker path on top of the marked slot's light arrival, ps.</summary>
    public long BasisMarkerDelayPs { get; init; }

    /// <summary>The cable delay of detector <paramref name="detector"/>, ps.</summary>
    public long DetectorDelayPs(int detector) => DetectorDelaysPs is { } delays ? delays[detector] : 0;

    /// <summary>Checks the options against a receiver with <paramref name="detectorCount"/> detectors and pulse period <paramref name="pulsePeriodPs"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the parameter name is the option's name.</exception>
    /// <exception cref="ArgumentException">Channels collide or the delay list has the wrong length.</exception>
    public void Validate(int detectorCount, double pulsePeriodPs)
    {
        if (SyncDivider < 1)
            throw new ArgumentOutOfRangeException(nameof(SyncDivider), SyncDivider, "The sync divider must be at least 1 pulse.");
        if (FirstDetectorChannel + detectorCount - 1 > ushort.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(FirstDetectorChannel), FirstDetectorChannel,
                $"Detector channels {FirstDetectorChannel}..{FirstDetectorChannel + detectorCount - 1} do not fit a 16-bit channel number.");
        if (SyncChannel >= FirstDetectorChannel && SyncChannel < FirstDetectorChannel + detectorCount)
            throw new ArgumentException(
                $"Sync channel {SyncChannel} collides with the detector channels {FirstDetectorChannel}..{FirstDetectorChannel + detectorCount - 1}.",
                nameof(SyncChannel));
        if (SyncDelayPs < 0)
            throw new ArgumentOutOfRangeException(nameof(SyncDelayPs), SyncDelayPs, "The sync delay must be >= 0 ps.");
        if (BasisMarkerChannel is ushort marker && (marker == SyncChannel || (marker >= FirstDetectorChannel && marker < FirstDetectorChannel + detectorCount)))
            throw new ArgumentException($"Basis marker channel {marker} collides with the sync or a detector channel.", nameof(BasisMarkerChannel));
        if (BasisMarkerDelayPs is < 0 or > 1_000_000_000)
            throw new ArgumentOutOfRangeException(nameof(BasisMarkerDelayPs), BasisMarkerDelayPs, "The basis marker delay must lie in [0, 1e9] ps.");
        // Consecutive sync tags must stay in order: 40 RMS of jitter fit in one sync interval (a 20-sigma swap per pair).
        double syncIntervalPs = SyncDivider * pulsePeriodPs;
        if (!(SyncJitterRmsPs >= 0) || SyncJitterRmsPs * 40 > syncIntervalPs)
            throw new ArgumentOutOfRangeException(nameof(SyncJitterRmsPs), SyncJitterRmsPs,
                $"The sync jitter must be >= 0 and at most 1/40 of the sync interval ({syncIntervalPs} ps).");
        if (DetectorDelaysPs is { } delays)
        {
            if (delays.Length != detectorCount)
                throw new ArgumentException($"{delays.Length} detector delays given for {detectorCount} detectors.", nameof(DetectorDelaysPs));
            foreach (long delay in delays)
                if (delay < 0 || delay > 1_000_000_000)
                    throw new ArgumentOutOfRangeException(nameof(DetectorDelaysPs), delay, "Each detector delay must lie in [0, 1e9] ps.");
        }
        if (!(DarkCountRateHz >= 0) || DarkCountRateHz > 1e9)
            throw new ArgumentOutOfRangeException(nameof(DarkCountRateHz), DarkCountRateHz, "The free-running dark-count rate must lie in [0, 1e9] per second.");
        if (EndPulse < 0)
            throw new ArgumentOutOfRangeException(nameof(EndPulse), EndPulse, "The end pulse must be >= 0.");
    }
}
