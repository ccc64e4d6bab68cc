namespace Qkd.Emulation;

/// <summary>The attack the emulated channel applies, if any.</summary>
public enum EavesdropperKind
{
    /// <summary>Honest channel.</summary>
    None = 0,

    /// <summary>Eve measures attacked pulses in a random basis and resends a coherent pulse of the same intensity.</summary>
    InterceptResend = 1,

    /// <summary>Eve keeps one photon of every multi-photon pulse, forwards the rest losslessly and blocks single photons.</summary>
    PhotonNumberSplitting = 2,
}
