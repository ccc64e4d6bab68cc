using System.Text.Json.Serialization;

namespace Qkd.Emulation;

/// <summary>Which way a classical channel's light runs relative to Alice's quantum signal.</summary>
public enum CoexistenceDirection
{
    /// <summary>Launched at Alice's end with the quantum signal: forward Raman light reaches Bob.</summary>
    CoPropagating,

    /// <summary>Launched at Bob's end towards Alice: backward (backscattered) Raman light reaches Bob.</summary>
    CounterPropagating,
}

/// <summary>
/// A classical channel sharing the quantum channel's fibre (a 10G Ethernet link, a DWDM channel): its launch power,
/// wavelength and direction, and the fibre's Raman cross-section from its wavelength into the quantum channel's.
/// In a profile's "classicalChannels": <c>{ "launchPowerDbm": -10, "wavelengthNm": 1310, "direction": "CoPropagating" }</c>.
/// The model is <see cref="RamanScattering"/>; src/Qkd.Emulation/README.md gives the formula, defaults and sources.
/// </summary>
public sealed record CoexistingChannel
{
    /// <summary>Raman cross-section used when a channel gives none, per km per nm (README: where it comes from).</summary>
    public const double DefaultRamanCrossSectionPerKmNm = 3e-9;

    /// <summary>Optical power launched into the fibre, dBm (at Alice's end co-propagating, at Bob's end counter-propagating).</summary>
    public double LaunchPowerDbm { get; init; }

    /// <summary>The classical channel's wavelength (1310 for 10GBASE-LR; a C-band DWDM channel otherwise).</summary>
    public double WavelengthNm { get; init; } = 1310;

    [JsonConverter(typeof(Qkd.Core.Json.EnumNameConverter<CoexistenceDirection>))] // a name in every report, not only in profiles
    public CoexistenceDirection Direction { get; init; } = CoexistenceDirection.CoPropagating;

    /// <summary>rho: the fibre's spontaneous Raman cross-section from this wavelength into the quantum wavelength, 1/(km nm).</summary>
    public double RamanCrossSectionPerKmNm { get; init; } = DefaultRamanCrossSectionPerKmNm;

    /// <summary>The fibre's attenuation at this channel's wavelength, dB/km; null: the profile's fibreLossDbPerKm.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? LossDbPerKm { get; init; }

    /// <summary>Launch power in watts.</summary>
    [JsonIgnore]
    public double LaunchPowerWatts => 1e-3 * Math.Pow(10, LaunchPowerDbm / 10);

    /// <summary>The first problem with this channel's fields (named as in a profile), or null.</summary>
    internal string? Problem(string prefix)
    {
        if (!(LaunchPowerDbm is >= -100 and <= 30)) return $"{prefix}.launchPowerDbm must lie in [-100, 30], got {LaunchPowerDbm}";
        if (!(WavelengthNm is > 0 and < 10_000)) return $"{prefix}.wavelengthNm must lie in (0, 10000), got {WavelengthNm}";
        if (!Enum.IsDefined(Direction)) return $"{prefix}.direction must be CoPropagating or CounterPropagating";
        if (!(RamanCrossSectionPerKmNm >= 0 && double.IsFinite(RamanCrossSectionPerKmNm))) return $"{prefix}.ramanCrossSectionPerKmNm must be >= 0, got {RamanCrossSectionPerKmNm}";
        if (LossDbPerKm is double loss && !(loss >= 0 && double.IsFinite(loss))) return $"{prefix}.lossDbPerKm must be >= 0, got {loss}";
        return null;
    }
}
