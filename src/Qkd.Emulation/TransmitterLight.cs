using System.Globalization;
using Qkd.Core;

namespace Qkd.Emulation;

/// <summary>
/// The light Alice's transmitter sends, as its laser modulator is set: pulse rate and the mean photon number of each
/// intensity class. Not part of the <see cref="LinkProfile"/> (the physics the devices do not control): the emulated
/// devices take it from the modulator's own settings (<see cref="Firmware.EmulatedLinkDevices.ImpliedLight"/>), a direct
/// emulation from the link settings the modulator would be configured with. Which intensity each pulse has, and its
/// basis and bit, come with Alice's symbols.
/// </summary>
/// <param name="PulseRateHz">Pulses per second.</param>
/// <param name="SignalMeanPhotonNumber">mu1, photons per signal pulse.</param>
/// <param name="DecoyMeanPhotonNumber">mu2, photons per decoy pulse.</param>
/// <param name="VacuumMeanPhotonNumber">mu3, photons per vacuum pulse (ideally 0).</param>
public sealed record TransmitterLight(double PulseRateHz, double SignalMeanPhotonNumber, double DecoyMeanPhotonNumber, double VacuumMeanPhotonNumber)
{
    /// <summary>1 GHz, mu = 0.5 / 0.15 / 0: the light of the default link.</summary>
    public static TransmitterLight Default { get; } = new(1e9, 0.5, 0.15, 0.0);

    /// <summary>Time between pulses, picoseconds.</summary>
    public double PulsePeriodPs => Units.PeriodPs(PulseRateHz);

    public double MeanPhotonNumber(Intensity intensity) => intensity switch
    {
        Intensity.Signal => SignalMeanPhotonNumber,
        Intensity.Decoy => DecoyMeanPhotonNumber,
        Intensity.Vacuum => VacuumMeanPhotonNumber,
        _ => throw new ArgumentOutOfRangeException(nameof(intensity), intensity, "Unknown intensity class."),
    };

    /// <summary>
    /// Checks that the light is something the emulated source can send: a pulse period of at least 1 ps and intensity
    /// levels that form a decoy-state source (mu1 > mu2 + mu3, mu2 > mu3 >= 0, mu1 &lt;= 100).
    /// </summary>
    /// <exception cref="LinkProfileException">The first violation; <see cref="LinkProfileException.Field"/> is the camelCase name of the value.</exception>
    public void Validate()
    {
        Require(PulseRateHz >= 1 && PulseRateHz <= 1e12, "pulseRateHz", PulseRateHz, "must lie in [1, 1e12] (a period of at least 1 ps)");
        Require(VacuumMeanPhotonNumber >= 0 && double.IsFinite(VacuumMeanPhotonNumber), "vacuumMeanPhotonNumber", VacuumMeanPhotonNumber, "must be >= 0");
        Require(DecoyMeanPhotonNumber > VacuumMeanPhotonNumber && double.IsFinite(DecoyMeanPhotonNumber), "decoyMeanPhotonNumber", DecoyMeanPhotonNumber,
            $"must be > vacuumMeanPhotonNumber ({Format(VacuumMeanPhotonNumber)})");
        Require(SignalMeanPhotonNumber > DecoyMeanPhotonNumber + VacuumMeanPhotonNumber, "signalMeanPhotonNumber", SignalMeanPhotonNumber,
            $"must be > decoyMeanPhotonNumber + vacuumMeanPhotonNumber ({Format(DecoyMeanPhotonNumber + VacuumMeanPhotonNumber)})");
        Require(SignalMeanPhotonNumber <= 100, "signalMeanPhotonNumber", SignalMeanPhotonNumber, "must be <= 100 (a weak coherent source)");
    }

    private static void Require(bool condition, string field, double value, string rule)
    {
        if (!condition) throw new LinkProfileException(field, $"{field} {rule}, got {Format(value)}");
    }

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
