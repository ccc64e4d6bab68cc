using Qkd.Core;

namespace Qkd.Emulation;

/// <summary>
/// Spontaneous Raman scattering from classical channels in the quantum channel's fibre, as background light at Bob's
/// detectors. The Raman power that falls into Bob's filter (bandwidth Delta-lambda) at the fibre's end, for a channel
/// of launch power P_in, cross-section rho (per km per nm), fibre length L, attenuations a_c (classical wavelength) and
/// a_q (quantum wavelength) in 1/km (a = ln(10)/10 × dB/km):
/// <code>
/// co-propagating:       P = P_in rho Dl (e^(-a_q L) - e^(-a_c L)) / (a_c - a_q)   → P_in e^(-a L) rho L Dl = P_out rho L Dl   (a_c = a_q = a)
/// counter-propagating:  P = P_in rho Dl (1 - e^(-(a_c + a_q) L)) / (a_c + a_q)    → P_in rho Dl (1 - e^(-2 a L)) / (2 a)     (a_c = a_q = a)
/// </code>
/// (Eraerds et al., New J. Phys. 12, 063027 (2010), with equal attenuations; the unequal forms integrate the same
/// scattering along the fibre). Photons per second at Bob's receiver: P λ_q / (h c). Per gate: that rate times the
/// detector's gate width; per detector input: times Bob's internal transmittance and detector efficiency. The light is
/// broadband and unpolarised, so it is Poisson in a gate and shared among Bob's detectors like light of a random basis
/// and bit (<see cref="ReceiverOptics"/>): it adds a background that does not depend on Alice's symbols.
/// </summary>
public static class RamanScattering
{
    private const double PlanckJouleSeconds = 6.62607015e-34;

    /// <summary>The Raman power from <paramref name="channel"/> in Bob's filter band at his end of the fibre, watts.</summary>
    public static double PowerAtReceiverWatts(LinkProfile profile, CoexistingChannel channel)
    {
        double length = profile.FibreLengthKm;
        double quantum = AttenuationPerKm(profile.FibreLossDbPerKm);
        double classical = AttenuationPerKm(channel.LossDbPerKm ?? profile.FibreLossDbPerKm);
        double scale = channel.LaunchPowerWatts * channel.RamanCrossSectionPerKmNm * profile.EffectiveFilterBandwidthNm;
        return channel.Direction == CoexistenceDirection.CoPropagating
            ? scale * Math.Exp(-quantum * length) * Integral(classical - quantum, length)
            : scale * Integral(classical + quantum, length);
    }

    /// <summary>Raman photons per second entering Bob's receiver from every classical channel of the profile.</summary>
    public static double PhotonsPerSecondAtReceiver(LinkProfile profile)
    {
        if (profile.ClassicalChannels is not { Count: > 0 } channels) return 0;
        double photonEnergy = PlanckJouleSeconds * LinkProfile.SpeedOfLightMetresPerSecond / (profile.WavelengthNm * 1e-9);
        double watts = 0;
        foreach (var channel in channels) watts += PowerAtReceiverWatts(profile, channel);
        return watts / photonEnergy;
    }

    /// <summary>
    /// Mean Raman photons detected per gate, summed over Bob's detectors: photons per second × gate width (at most the
    /// pulse period) × Bob's internal transmittance × detector efficiency.
    /// </summary>
    public static double DetectedPhotonsPerGate(LinkProfile profile, double pulsePeriodPs)
    {
        double rate = PhotonsPerSecondAtReceiver(profile);
        if (rate == 0) return 0;
        double windowPs = Math.Min(profile.EffectiveGateWidthPs, pulsePeriodPs);
        return rate * windowPs / Units.PicosecondsPerSecond * profile.ReceiverTransmittance;
    }

    /// <summary>(1 - e^(-a L)) / a, and L when a is 0: the length-weighted integral of e^(-a z) over the fibre.</summary>
    private static double Integral(double attenuationPerKm, double lengthKm) =>
        Math.Abs(attenuationPerKm * lengthKm) < 1e-12 ? lengthKm : -PreciseMath.ExpM1(-attenuationPerKm * lengthKm) / attenuationPerKm;

    private static double AttenuationPerKm(double lossDbPerKm) => lossDbPerKm * Math.Log(10) / 10;
}
