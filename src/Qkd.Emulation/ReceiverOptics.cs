using Qkd.Core;

namespace Qkd.Emulation;

/// <summary>
/// How Bob's optics share the light of a pulse among his detectors, as a fraction r_d of the detected light
/// (sum over d is 1). With Bob's measurement basis equal to the prepared one, 1 - e_mis goes to the detector of the
/// prepared bit and e_mis to the other, e_mis being that basis's own misalignment; in the conjugate basis half goes to each. A passive receiver additionally
/// multiplies by its beam splitter ratio (bobProbabilityZ to the Z pair); an active one measures in the basis its
/// modulator picked for the pulse.
/// </summary>
internal sealed class ReceiverOptics
{
    private readonly double _misalignmentZ;
    private readonly double _misalignmentX;
    private readonly double _bobProbabilityZ;

    public ReceiverOptics(LinkProfile profile)
    {
        Layout = profile.ReceiverLayout;
        DetectorCount = Layout.DetectorCount();
        _misalignmentZ = profile.Misalignment(Basis.Z);
        _misalignmentX = profile.Misalignment(Basis.X);
        _bobProbabilityZ = profile.BobProbabilityZ;
        BasisSettings = Layout == ReceiverLayout.ActiveTwoDetector
            ? [Basis.Z, Basis.X]
            : [Basis.Z];
    }

    public ReceiverLayout Layout { get; }

    public int DetectorCount { get; }

    /// <summary>
    /// The modulator settings an active receiver chooses between (Z and X); a passive receiver has one fixed setting,
    /// reported as Z, with probability 1.
    /// </summary>
    public Basis[] BasisSettings { get; }

    public bool IsActive => Layout == ReceiverLayout.ActiveTwoDetector;

    /// <summary>Probability of an active-basis setting (1 for a passive receiver's only setting).</summary>
    public double ProbabilityOfSetting(Basis setting) =>
        !IsActive ? 1.0 : setting == Basis.Z ? _bobProbabilityZ : 1.0 - _bobProbabilityZ;

    /// <summary>r_d: share of a pulse prepared in (basis, bit) that reaches detector d under the given active setting.</summary>
    public double ShareOf(Basis prepared, int bit, Basis activeSetting, int detector)
    {
        if (IsActive)
            return Route(prepared, bit, activeSetting, detector);
        var basis = (Basis)(detector >> 1);
        double split = basis == Basis.Z ? _bobProbabilityZ : 1.0 - _bobProbabilityZ;
        return split * Route(prepared, bit, basis, detector & 1);
    }

    /// <summary>Share of unpolarised background light (Raman noise) reaching detector d: r_d averaged over every basis and bit.</summary>
    public double NoiseShareOf(Basis activeSetting, int detector) =>
        0.25 * (ShareOf(Basis.Z, 0, activeSetting, detector) + ShareOf(Basis.Z, 1, activeSetting, detector)
              + ShareOf(Basis.X, 0, activeSetting, detector) + ShareOf(Basis.X, 1, activeSetting, detector));

    private double Route(Basis prepared, int bit, Basis measured, int outcome) =>
        prepared != measured ? 0.5 : outcome == bit ? 1.0 - Misalignment(prepared) : Misalignment(prepared);

    private double Misalignment(Basis basis) => basis == Basis.Z ? _misalignmentZ : _misalignmentX;
}
