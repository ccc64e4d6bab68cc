namespace Qkd.Monitoring;

/// <summary>What a link alarm says changed. Which kinds hold key generation: <see cref="MonitorOptions.ThreatensSecurity"/>.</summary>
public enum AlarmKind
{
    /// <summary>The channel transmittance (from the signal gain, dark counts removed) dropped: a tap, a bend, a bad splice.</summary>
    LossStep,

    /// <summary>The transmittance rose: a channel replaced by a less lossy one (the first step of photon-number splitting).</summary>
    TransmittanceRise,

    /// <summary>The transmittances the signal and decoy gains give no longer agree: the photon-number statistics changed (PNS).</summary>
    DecoyInconsistency,

    /// <summary>The QBER of a basis rose: intercept-resend, a misaligned or attacked receiver.</summary>
    QberRise,

    /// <summary>Clicks on vacuum pulses or between gates vanished: detectors out of Geiger mode (blinding).</summary>
    Blinding,

    /// <summary>Clicks on vacuum pulses rose: more background light (Raman from classical traffic, stray light) or warmer detectors.</summary>
    BackgroundRise,

    /// <summary>Off-gate clicks (afterpulses, dark counts between gates) rose.</summary>
    AfterpulseRise,

    /// <summary>The share of clicks of one detector changed: efficiency mismatch exploited (time shift), a detector controlled or failing.</summary>
    DetectorImbalance,

    /// <summary>The share of detector tags inside the acceptance gate changed: light arriving at another time (time shift), a timing fault.</summary>
    TimingAnomaly,
}
