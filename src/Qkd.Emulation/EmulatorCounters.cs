namespace Qkd.Emulation;

/// <summary>
/// What the emulated receiver did, for reports and for checking the model: everything the physics adds (dark counts,
/// afterpulses) or removes (dead time) is counted. A snapshot value: <see cref="EmulatedLink.Counters"/> returns a copy.
/// </summary>
/// <remarks>
/// "Click" means one <see cref="Qkd.Core.DetectorClick"/> (a pulse slot with at least one detector firing);
/// "firing" means one detector firing, so a double click is one click and two firings. The per-pulse random choices of
/// the attacks are only made for pulses that click (they do not change whether an intercept-resend pulse clicks),
/// so the eavesdropper is counted per click, not per pulse.
/// </remarks>
public struct EmulatorCounters
{
    /// <summary>Clicks emitted (pulse slots in which at least one detector fired).</summary>
    public long Clicks;

    /// <summary>Detector firings emitted (sum of the number of channels over all clicks).</summary>
    public long DetectorFirings;

    /// <summary>Clicks with two or more detectors firing.</summary>
    public long MultiClicks;

    /// <summary>Clicks in which every firing came from a dark count (no photon, no afterpulse).</summary>
    public long DarkCountOnlyClicks;

    /// <summary>Detector firings that were afterpulses.</summary>
    public long AfterpulseFirings;

    /// <summary>Afterpulses scheduled after a firing (with probability afterpulseProbability per firing).</summary>
    public long AfterpulsesScheduled;

    /// <summary>Afterpulses that came due while the detectors were blinded (linear mode) and so never fired.</summary>
    public long AfterpulsesSuppressedByBlinding;

    /// <summary>Scheduled afterpulses that never fired because a new real click on the same detector replaced them.</summary>
    public long AfterpulsesReplaced;

    /// <summary>Light or dark-count firings suppressed because the detector was still dead from its last firing.</summary>
    public long FiringsLostToDeadTime;

    /// <summary>Light/dark click events all of whose firings were suppressed by dead time (no click emitted for them).</summary>
    public long ClicksLostToDeadTime;

    /// <summary>Candidate pulses the thinning step rejected (a measure of the sampler's overhead, not of physics).</summary>
    public long CandidatePulsesRejected;

    /// <summary>Clicks of pulses Eve attacked (intercepted and resent, or photon-number split).</summary>
    public long EavesdroppedClicks;

    /// <summary>
    /// Active receiver driven by Bob's settings: clicks that fell in a slot without a basis (before the pattern, a gap
    /// in the host's basis stream, after its end), where the gates are closed; none was emitted.
    /// </summary>
    public long ClicksWithoutBasis;

    /// <summary>The counters by camelCase name, for reports and metrics.</summary>
    public readonly IReadOnlyDictionary<string, long> ToDictionary() => new Dictionary<string, long>
    {
        ["clicks"] = Clicks,
        ["detectorFirings"] = DetectorFirings,
        ["multiClicks"] = MultiClicks,
        ["darkCountOnlyClicks"] = DarkCountOnlyClicks,
        ["afterpulseFirings"] = AfterpulseFirings,
        ["afterpulsesScheduled"] = AfterpulsesScheduled,
        ["afterpulsesReplaced"] = AfterpulsesReplaced,
        ["afterpulsesSuppressedByBlinding"] = AfterpulsesSuppressedByBlinding,
        ["firingsLostToDeadTime"] = FiringsLostToDeadTime,
        ["clicksLostToDeadTime"] = ClicksLostToDeadTime,
        ["candidatePulsesRejected"] = CandidatePulsesRejected,
        ["clicksWithoutBasis"] = ClicksWithoutBasis,
        ["eavesdroppedClicks"] = EavesdroppedClicks,
    };
}
