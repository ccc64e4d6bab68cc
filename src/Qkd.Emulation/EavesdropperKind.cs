namespace Qkd.Emulation;

/// <summary>The attack the emulated channel applies, if any. Each is modelled in the physics (README: "Eavesdroppers").</summary>
public enum EavesdropperKind
{
    /// <summary>Honest channel.</summary>
    None = 0,

    /// <summary>Eve measures attacked pulses in a random basis and resends a coherent pulse of the same intensity.</summary>
    InterceptResend = 1,

    /// <summary>Eve keeps one photon of every multi-photon pulse, forwards the rest losslessly and blocks single photons.</summary>
    PhotonNumberSplitting = 2,

    /// <summary>
    /// Bright CW light drives Bob's avalanche photodiodes into linear mode (no dark counts, no afterpulses, no clicks
    /// from single photons); Eve measures Alice's pulses and sends bright trigger pulses that make the detector of her
    /// result click (faked states, Lydersen et al. 2010).
    /// </summary>
    DetectorBlinding = 3,

    /// <summary>
    /// Eve shifts each attacked pulse early or late so that the bit-0 or the bit-1 detectors, whose efficiency windows
    /// are mismatched in time, are the more efficient (Qi et al. 2007, Zhao et al. 2008); she compensates the lost
    /// efficiency with a lower-loss fibre.
    /// </summary>
    TimeShift = 4,

    /// <summary>A tap or bend of the fibre: a sudden extra loss of <see cref="EavesdropperSpec.ExtraLossDb"/>.</summary>
    FibreTap = 5,

    /// <summary>Denial of service: the light is blocked (channel transmittance 0), only dark counts remain.</summary>
    DenialOfService = 6,
}
