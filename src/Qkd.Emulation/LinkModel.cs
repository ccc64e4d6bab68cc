using Qkd.Core;
using Qkd.Core.Symbols;

namespace Qkd.Emulation;

/// <summary>
/// Textbook expectations for an honest link (Lo, Ma, Chen 2005; Ma et al. 2005): what the decoy-state analysis should
/// find when the emulator runs the profile with dead time and afterpulsing off. Reports put these next to the
/// measured values. The expressions are first order in the dark-count yield, as in the literature; the emulator
/// itself is exact (see README.md).
/// </summary>
public sealed class LinkModel
{
    private readonly LinkProfile _profile;
    private readonly TransmitterLight _light;
    private readonly SymbolDistribution _alice;

    /// <param name="profile">The link's physics.</param>
    /// <param name="light">The light Alice sends.</param>
    /// <param name="alice">Alice's choice probabilities (intensity classes).</param>
    public LinkModel(LinkProfile profile, TransmitterLight light, SymbolDistribution alice)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(light);
        ArgumentNullException.ThrowIfNull(alice);
        profile.Validate();
        light.Validate();
        _profile = profile;
        _light = light;
        _alice = alice;
        Transmittance = profile.TotalTransmittance;
        // Raman light from classical channels in the fibre (RamanScattering) is background like a dark count.
        BackgroundYield = -PreciseMath.ExpM1(profile.DetectorCount * PreciseMath.Log1P(-profile.DarkCountProbabilityPerPulse)
                                             - RamanScattering.DetectedPhotonsPerGate(profile, light.PulsePeriodPs));
    }

    /// <summary>eta = 10^(-(L alpha + internal loss)/10) * detector efficiency.</summary>
    public double Transmittance { get; }

    /// <summary>Y0 = 1 - (1 - p_dark)^D e^(-n_R): the probability of a click with no light from Alice (D detectors, n_R Raman photons detected per gate).</summary>
    public double BackgroundYield { get; }

    /// <summary>Y1 = 1 - (1 - Y0)(1 - eta): probability of a click given exactly one photon was sent.</summary>
    public double SinglePhotonYield => 1 - (1 - BackgroundYield) * (1 - Transmittance);

    /// <summary>e1 = (Y0/2 + e_mis * eta) / Y1: error rate of single-photon clicks in the X basis (what the decoy analysis bounds).</summary>
    public double SinglePhotonErrorRate => SinglePhotonErrorRateIn(Basis.X);

    /// <summary>e1 in <paramref name="basis"/>, with that basis's misalignment.</summary>
    public double SinglePhotonErrorRateIn(Basis basis) => (BackgroundYield / 2 + _profile.Misalignment(basis) * Transmittance) / SinglePhotonYield;

    /// <summary>Q_k = Y0 + 1 - exp(-eta mu_k): probability that a pulse of intensity k gives a click.</summary>
    public double Gain(Intensity intensity) => BackgroundYield + DetectedLight(intensity);

    /// <summary>E_k Q_k = Y0/2 + e_mis (1 - exp(-eta mu_k)): probability of an erroneous sifted click, per sifted pulse, in the Z (key) basis.</summary>
    public double ErrorGain(Intensity intensity) => ErrorGain(intensity, Basis.Z);

    /// <summary>E_k Q_k in <paramref name="basis"/>, with that basis's misalignment.</summary>
    public double ErrorGain(Intensity intensity, Basis basis) => BackgroundYield / 2 + _profile.Misalignment(basis) * DetectedLight(intensity);

    /// <summary>E_k: the quantum bit error rate of sifted clicks of intensity k in the Z (key) basis.</summary>
    public double ErrorRate(Intensity intensity) => ErrorGain(intensity) / Gain(intensity);

    /// <summary>E_k in <paramref name="basis"/>.</summary>
    public double ErrorRate(Intensity intensity, Basis basis) => ErrorGain(intensity, basis) / Gain(intensity);

    /// <summary>Expected clicks per second over all intensities.</summary>
    public double ClickRatePerSecond =>
        _light.PulseRateHz * Intensities.All.Sum(k => _alice.IntensityProbabilities[(int)k] * Gain(k));

    private double DetectedLight(Intensity intensity) =>
        PreciseMath.OneMinusExp(-Transmittance * _light.MeanPhotonNumber(intensity));
}
