using Qkd.Core;

namespace Qkd.Acquisition;

/// <summary>
/// What <see cref="ClockRecovery"/> needs to know about the link and the tagger wiring: Alice's pulse rate, where her
/// divided-down clock (sync) comes in, which inputs are the detectors, the calibrated delays, and the gate window.
/// Delays are on Bob's tagger, in picoseconds; the path delay is a propagation time (it scales with Alice's clock).
/// </summary>
public sealed record ClockRecoveryOptions
{
    /// <summary>Most detectors a <see cref="DetectorClick.ChannelMask"/> can hold.</summary>
    public const int MaxDetectors = 8;

    /// <summary>Alice's nominal pulse rate, pulses per second; the drift of Bob's clock against it is tracked.</summary>
    public double PulseRateHz { get; init; } = 1e9;

    /// <summary>Tagger input that receives Alice's sync.</summary>
    public ushort SyncChannel { get; init; } = 0;

    /// <summary>
    /// Pulses per sync tag. Convention (the emulator follows it): the k-th sync tag of the stream marks pulse
    /// <c>k * SyncDivider</c>, so the first sync tag received is pulse 0 and anchors every pulse index to Alice's.
    /// </summary>
    public int SyncDivider { get; init; } = 1024;

    /// <summary>Tagger input of each detector: entry d is the channel of detector d (bit d of the click mask).</summary>
    public ushort[] DetectorChannels { get; init; } = [1, 2, 3, 4];

    /// <summary>Cable/electronics delay of each detector input, ps, indexed like <see cref="DetectorChannels"/>; null = all zero.</summary>
    public long[]? DetectorDelaysPs { get; init; }

    /// <summary>Delay of the sync input, ps (subtracted from sync tags).</summary>
    public long SyncDelayPs { get; init; }

    /// <summary>
    /// Time from a pulse's sync reference to its light reaching the detectors (fibre delay and any fixed offset), ps of
    /// Alice's time. Calibration measures it; it is converted to pulses with the nominal period, so Bob's drift is
    /// applied to it exactly as to the pulse clock.
    /// </summary>
    public double PathDelayPs { get; init; }

    /// <summary>
    /// 0 (the default): <see cref="PathDelayPs"/> is known to within the gate. Otherwise the light's arrival phase within
    /// the pulse period is not known in advance (an unknown fibre delay): the first this many detector tags after lock
    /// are folded onto the period (relative to the tracked sync clock), the fold's peak gives the phase, and only then
    /// are tags gated and assigned; the folded tags are held (this many per stream) and assigned then too, against the sync
    /// each was placed by, so the search costs no detections (the first ones carry the pilot frame synchronisation needs). The whole pulses of the unknown delay are
    /// left for frame synchronisation: pulse indices are then off by a whole number of pulses.
    /// </summary>
    public int ArrivalPhaseSearchTags { get; init; }

    /// <summary>
    /// The most <see cref="ArrivalPhaseSearchTags"/> may be: 2^20. Each searched tag is held until the phase is found:
    /// 37 bytes of search state here (fold position, sync base, time, slot, replayed pulse, order) and one 24-byte
    /// <see cref="DetectorClick"/> more in the caller's click destination (<see cref="ClockRecovery.MaxHeldClicks"/>),
    /// so about 61 bytes per tag: 64 MB at 2^20 (the former cap, 2^24, was about 1 GB). The node folds 4096.
    /// </summary>
    public const int MaxArrivalPhaseSearchTags = 1 << 20;

    /// <summary>Width of the acceptance window around the expected arrival time in each pulse slot, ps (at most one period).</summary>
    public double GateWidthPs { get; init; } = 500;

    /// <summary>Centre of the gate relative to the expected arrival time, ps (within half a period).</summary>
    public double GateCentreOffsetPs { get; init; }

    /// <summary>
    /// Memory of the sync tracker, in sync tags: an exact least-squares line over the first this many syncs, then a
    /// fading-memory (alpha-beta) fit with the same gains, which follows a slowly wandering drift.
    /// </summary>
    public int SyncFilterLength { get; init; } = 64;

    /// <summary>Sync tags needed before detector tags are assigned (the drift estimate needs at least two).</summary>
    public int SyncsToLock { get; init; } = 4;

    /// <summary>
    /// Largest deviation of a sync tag from its predicted time, ps, before it is rejected as an anomaly; null means an
    /// eighth of the sync interval.
    /// </summary>
    public double? SyncTolerancePs { get; init; }

    /// <summary>
    /// Tagger input of an active receiver's basis marker (one tag in the slot where Bob's basis pattern starts); null for
    /// a passive receiver. Its pulse is <see cref="ClockRecovery.BasisMarkerPulse"/>.
    /// </summary>
    public ushort? BasisMarkerChannel { get; init; }

    /// <summary>Delay of the basis-marker input on top of the marked slot's light arrival, ps.</summary>
    public long BasisMarkerDelayPs { get; init; }

    /// <summary>Nominal pulse period, ps.</summary>
    public double PulsePeriodPs => Units.PeriodPs(PulseRateHz);

    /// <summary>The delay of detector <paramref name="detector"/>, ps.</summary>
    public long DetectorDelayPs(int detector) => DetectorDelaysPs is { } delays ? delays[detector] : 0;

    /// <summary>The sync tolerance in effect, ps.</summary>
    public double EffectiveSyncTolerancePs => SyncTolerancePs ?? SyncDivider * PulsePeriodPs / 8;

    /// <summary>Checks every option and their relations.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the parameter name is the option's name.</exception>
    /// <exception cref="ArgumentException">Channels are missing, duplicated or collide, or list lengths disagree.</exception>
    public void Validate()
    {
        if (!(PulseRateHz >= 1 && PulseRateHz <= 1e12))
            throw new ArgumentOutOfRangeException(nameof(PulseRateHz), PulseRateHz, "The pulse rate must lie in [1, 1e12] per second.");
        if (SyncDivider < 1)
            throw new ArgumentOutOfRangeException(nameof(SyncDivider), SyncDivider, "The sync divider must be at least 1 pulse.");
        if (DetectorChannels is null || DetectorChannels.Length is 0 or > MaxDetectors)
            throw new ArgumentException($"Between 1 and {MaxDetectors} detector channels are needed, got {DetectorChannels?.Length ?? 0}.", nameof(DetectorChannels));
        for (int d = 0; d < DetectorChannels.Length; d++)
        {
            if (DetectorChannels[d] == SyncChannel)
                throw new ArgumentException($"Detector {d} is on channel {SyncChannel}, which is the sync channel.", nameof(DetectorChannels));
            for (int e = 0; e < d; e++)
                if (DetectorChannels[e] == DetectorChannels[d])
                    throw new ArgumentException($"Detectors {e} and {d} are both on channel {DetectorChannels[d]}.", nameof(DetectorChannels));
        }
        if (BasisMarkerChannel is ushort marker && (marker == SyncChannel || DetectorChannels.Contains(marker)))
            throw new ArgumentException($"The basis marker is on channel {marker}, which is the sync or a detector channel.", nameof(BasisMarkerChannel));
        if (Math.Abs(BasisMarkerDelayPs) > 1_000_000_000)
            throw new ArgumentOutOfRangeException(nameof(BasisMarkerDelayPs), BasisMarkerDelayPs, "The basis marker delay must lie in [-1e9, 1e9] ps.");
        if (DetectorDelaysPs is { } delays)
        {
            if (delays.Length != DetectorChannels.Length)
                throw new ArgumentException($"{delays.Length} detector delays given for {DetectorChannels.Length} detector channels.", nameof(DetectorDelaysPs));
            foreach (long delay in delays)
                if (Math.Abs(delay) > 1_000_000_000)
                    throw new ArgumentOutOfRangeException(nameof(DetectorDelaysPs), delay, "Each detector delay must lie in [-1e9, 1e9] ps.");
        }
        if (Math.Abs(SyncDelayPs) > 1_000_000_000_000)
            throw new ArgumentOutOfRangeException(nameof(SyncDelayPs), SyncDelayPs, "The sync delay must lie in [-1e12, 1e12] ps.");
        if (!(Math.Abs(PathDelayPs) <= 1e12))
            throw new ArgumentOutOfRangeException(nameof(PathDelayPs), PathDelayPs, "The path delay must lie in [-1e12, 1e12] ps (one second).");
        double period = PulsePeriodPs;
        if (!(GateWidthPs > 0 && GateWidthPs <= period))
            throw new ArgumentOutOfRangeException(nameof(GateWidthPs), GateWidthPs, $"The gate width must lie in (0, {period}] ps (one pulse period).");
        if (!(Math.Abs(GateCentreOffsetPs) <= period / 2))
            throw new ArgumentOutOfRangeException(nameof(GateCentreOffsetPs), GateCentreOffsetPs,
                $"The gate centre offset must lie within half a period ({period / 2} ps); larger shifts belong in {nameof(PathDelayPs)}.");
        if (ArrivalPhaseSearchTags < 0 || ArrivalPhaseSearchTags > MaxArrivalPhaseSearchTags)
            throw new ArgumentOutOfRangeException(nameof(ArrivalPhaseSearchTags), ArrivalPhaseSearchTags,
                $"{nameof(ArrivalPhaseSearchTags)} must lie in [0, 2^20 = {MaxArrivalPhaseSearchTags}] detector tags (each held tag costs about 61 bytes, 64 MB at the cap).");
        if (SyncFilterLength < 2)
            throw new ArgumentOutOfRangeException(nameof(SyncFilterLength), SyncFilterLength, "The sync filter needs a memory of at least 2 sync tags.");
        if (SyncsToLock < 2)
            throw new ArgumentOutOfRangeException(nameof(SyncsToLock), SyncsToLock, "At least 2 sync tags are needed to lock (one interval measures the drift).");
        double interval = SyncDivider * period;
        if (SyncTolerancePs is { } tolerance && !(tolerance > 0 && tolerance < interval / 2))
            throw new ArgumentOutOfRangeException(nameof(SyncTolerancePs), tolerance, $"The sync tolerance must lie in (0, {interval / 2}) ps (half the sync interval).");
    }
}
