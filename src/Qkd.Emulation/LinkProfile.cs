using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Qkd.Core;
using Qkd.Core.Symbols;

namespace Qkd.Emulation;

/// <summary>
/// Everything the physics model needs to know about one link: Alice's source, the fibre, Bob's receiver and
/// detectors, the clocks and an optional eavesdropper. Units are in the names. The defaults describe a typical
/// 1 GHz decoy-state BB84 link over 25 km of standard fibre with InGaAs detectors; every field and its meaning is
/// listed in src/Qkd.Emulation/README.md, and profiles/default-link.json is <see cref="Default"/> as JSON.
/// </summary>
public sealed record LinkProfile
{
    /// <summary>Speed of light in vacuum, m/s.</summary>
    public const double SpeedOfLightMetresPerSecond = 299_792_458.0;

    /// <summary>The built-in profile (all defaults).</summary>
    public static LinkProfile Default { get; } = new();

    // ---- Alice's source -------------------------------------------------------------------------------------
    public double PulseRateHz { get; init; } = 1e9;
    public double WavelengthNm { get; init; } = 1550;
    public double SignalMeanPhotonNumber { get; init; } = 0.5;
    public double DecoyMeanPhotonNumber { get; init; } = 0.15;
    public double VacuumMeanPhotonNumber { get; init; } = 0.0;
    public double SignalProbability { get; init; } = 0.65;
    public double DecoyProbability { get; init; } = 0.25;
    public double VacuumProbability { get; init; } = 0.10;
    public double AliceProbabilityZ { get; init; } = 0.75;

    // ---- Bob's receiver --------------------------------------------------------------------------------------
    /// <summary>Active receiver: probability that Bob's modulator picks Z. Passive receiver: share of light the beam splitter sends to the Z pair.</summary>
    public double BobProbabilityZ { get; init; } = 0.75;

    // ---- Channel ---------------------------------------------------------------------------------------------
    public double FibreLengthKm { get; init; } = 25;
    public double FibreLossDbPerKm { get; init; } = 0.2;
    public double FibreGroupIndex { get; init; } = 1.468;
    public double BobInternalLossDb { get; init; } = 1.5;

    // ---- Detectors -------------------------------------------------------------------------------------------
    public double DetectorEfficiency { get; init; } = 0.25;
    public double DarkCountProbabilityPerPulse { get; init; } = 1e-6;
    public double AfterpulseProbability { get; init; } = 0.02;
    public double AfterpulseDecayPs { get; init; } = 50_000;
    public long DeadTimePs { get; init; } = 20_000;
    public double TimingJitterRmsPs { get; init; } = 40;
    public double MisalignmentError { get; init; } = 0.01;

    // ---- Clocks ----------------------------------------------------------------------------------------------
    public long ClockOffsetPs { get; init; } = 1_000_000;
    public double ClockDriftPpm { get; init; } = 5;

    public ReceiverLayout ReceiverLayout { get; init; } = ReceiverLayout.PassiveFourDetector;

    public EavesdropperSpec Eavesdropper { get; init; } = EavesdropperSpec.None;

    // ---- Derived quantities (not serialised) -----------------------------------------------------------------

    /// <summary>Time between pulses, picoseconds.</summary>
    [JsonIgnore]
    public double PulsePeriodPs => Units.PeriodPs(PulseRateHz);

    /// <summary>Fibre loss plus Bob's internal loss, dB.</summary>
    [JsonIgnore]
    public double ChannelLossDb => FibreLengthKm * FibreLossDbPerKm + BobInternalLossDb;

    /// <summary>Power transmittance from Alice's output to Bob's detectors: fibre times Bob's optics.</summary>
    [JsonIgnore]
    public double ChannelTransmittance => Units.TransmittanceFromDb(ChannelLossDb);

    /// <summary>eta: channel transmittance times detector efficiency, the probability that one photon is detected.</summary>
    [JsonIgnore]
    public double TotalTransmittance => ChannelTransmittance * DetectorEfficiency;

    /// <summary>Probability that a photon entering Bob's receiver is detected (internal loss and detector efficiency only).</summary>
    [JsonIgnore]
    public double ReceiverTransmittance => Units.TransmittanceFromDb(BobInternalLossDb) * DetectorEfficiency;

    /// <summary>One-way propagation delay of the fibre, picoseconds.</summary>
    [JsonIgnore]
    public double FibreDelayPs => FibreLengthKm * 1000.0 * FibreGroupIndex / SpeedOfLightMetresPerSecond * Units.PicosecondsPerSecond;

    [JsonIgnore]
    public int DetectorCount => ReceiverLayout.DetectorCount();

    public double MeanPhotonNumber(Intensity intensity) => intensity switch
    {
        Intensity.Signal => SignalMeanPhotonNumber,
        Intensity.Decoy => DecoyMeanPhotonNumber,
        Intensity.Vacuum => VacuumMeanPhotonNumber,
        _ => throw new ArgumentOutOfRangeException(nameof(intensity), intensity, "Unknown intensity class."),
    };

    public double IntensityProbability(Intensity intensity) => intensity switch
    {
        Intensity.Signal => SignalProbability,
        Intensity.Decoy => DecoyProbability,
        Intensity.Vacuum => VacuumProbability,
        _ => throw new ArgumentOutOfRangeException(nameof(intensity), intensity, "Unknown intensity class."),
    };

    /// <summary>Alice's choice probabilities as the symbol source uses them.</summary>
    public SymbolDistribution CreateSymbolDistribution() =>
        new(AliceProbabilityZ, [SignalProbability, DecoyProbability, VacuumProbability]);

    /// <summary>The same link with a different fibre length.</summary>
    public LinkProfile WithDistance(double km) => this with { FibreLengthKm = km };

    // ---- JSON ------------------------------------------------------------------------------------------------

    /// <summary>Reads and validates a profile file.</summary>
    /// <exception cref="LinkProfileException">The file is not a valid profile; the message names the field.</exception>
    public static LinkProfile Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string json = File.ReadAllText(path);
        try
        {
            return Parse(json);
        }
        catch (LinkProfileException e)
        {
            throw new LinkProfileException(e.Field, $"Link profile '{path}': {e.Message}", e);
        }
    }

    /// <summary>Parses and validates a profile; fields left out keep their defaults, unknown fields are an error.</summary>
    /// <exception cref="LinkProfileException">Malformed JSON, an unknown field, a wrongly typed value or a value out of range.</exception>
    public static LinkProfile Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        LinkProfile? profile;
        try
        {
            profile = JsonSerializer.Deserialize<LinkProfile>(json, LinkProfileJson.Options);
        }
        catch (JsonException e)
        {
            throw new LinkProfileException(e.Path ?? "$", $"Invalid link profile JSON: {e.Message}", e);
        }
        if (profile is null)
            throw new LinkProfileException("$", "Invalid link profile JSON: the document is null.");
        profile.Validate();
        return profile;
    }

    /// <summary>The profile as indented camelCase JSON, readable by <see cref="Parse"/>.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, LinkProfileJson.Options);

    // ---- Validation ------------------------------------------------------------------------------------------

    /// <summary>Checks every field's range and the relations between fields.</summary>
    /// <exception cref="LinkProfileException">The first violation found; the message names the field and the value.</exception>
    public void Validate()
    {
        Require(PulseRateHz >= 1 && PulseRateHz <= 1e12, nameof(PulseRateHz), PulseRateHz, "must lie in [1, 1e12] (a period of at least 1 ps)");
        Require(WavelengthNm > 0 && double.IsFinite(WavelengthNm), nameof(WavelengthNm), WavelengthNm, "must be > 0");

        Require(VacuumMeanPhotonNumber >= 0 && double.IsFinite(VacuumMeanPhotonNumber), nameof(VacuumMeanPhotonNumber), VacuumMeanPhotonNumber, "must be >= 0");
        Require(DecoyMeanPhotonNumber > VacuumMeanPhotonNumber && double.IsFinite(DecoyMeanPhotonNumber), nameof(DecoyMeanPhotonNumber), DecoyMeanPhotonNumber,
            $"must be > vacuumMeanPhotonNumber ({Format(VacuumMeanPhotonNumber)})");
        Require(SignalMeanPhotonNumber > DecoyMeanPhotonNumber + VacuumMeanPhotonNumber, nameof(SignalMeanPhotonNumber), SignalMeanPhotonNumber,
            $"must be > decoyMeanPhotonNumber + vacuumMeanPhotonNumber ({Format(DecoyMeanPhotonNumber + VacuumMeanPhotonNumber)})");
        Require(SignalMeanPhotonNumber <= 100, nameof(SignalMeanPhotonNumber), SignalMeanPhotonNumber, "must be <= 100 (a weak coherent source)");

        RequireProbability(SignalProbability, nameof(SignalProbability));
        RequireProbability(DecoyProbability, nameof(DecoyProbability));
        RequireProbability(VacuumProbability, nameof(VacuumProbability));
        double sum = SignalProbability + DecoyProbability + VacuumProbability;
        Require(Math.Abs(sum - 1) <= 1e-9, nameof(SignalProbability), sum, "+ decoyProbability + vacuumProbability must equal 1");
        Require(AliceProbabilityZ > 0 && AliceProbabilityZ < 1, nameof(AliceProbabilityZ), AliceProbabilityZ, "must lie strictly between 0 and 1");
        Require(BobProbabilityZ > 0 && BobProbabilityZ < 1, nameof(BobProbabilityZ), BobProbabilityZ, "must lie strictly between 0 and 1");

        Require(FibreLengthKm >= 0, nameof(FibreLengthKm), FibreLengthKm, "must be >= 0");
        Require(FibreLengthKm <= 100_000, nameof(FibreLengthKm), FibreLengthKm, "must be <= 100000");
        Require(FibreLossDbPerKm >= 0 && double.IsFinite(FibreLossDbPerKm), nameof(FibreLossDbPerKm), FibreLossDbPerKm, "must be >= 0");
        Require(FibreGroupIndex >= 1 && FibreGroupIndex <= 10, nameof(FibreGroupIndex), FibreGroupIndex, "must lie in [1, 10]");
        Require(BobInternalLossDb >= 0 && double.IsFinite(BobInternalLossDb), nameof(BobInternalLossDb), BobInternalLossDb, "must be >= 0");

        Require(DetectorEfficiency > 0 && DetectorEfficiency <= 1, nameof(DetectorEfficiency), DetectorEfficiency, "must lie in (0, 1]");
        Require(DarkCountProbabilityPerPulse >= 0 && DarkCountProbabilityPerPulse < 1, nameof(DarkCountProbabilityPerPulse), DarkCountProbabilityPerPulse, "must lie in [0, 1)");
        Require(AfterpulseProbability >= 0 && AfterpulseProbability < 1, nameof(AfterpulseProbability), AfterpulseProbability, "must lie in [0, 1)");
        Require(AfterpulseDecayPs > 0 && double.IsFinite(AfterpulseDecayPs), nameof(AfterpulseDecayPs), AfterpulseDecayPs, "must be > 0");
        Require(DeadTimePs >= 0, nameof(DeadTimePs), DeadTimePs, "must be >= 0");
        Require(TimingJitterRmsPs >= 0 && double.IsFinite(TimingJitterRmsPs), nameof(TimingJitterRmsPs), TimingJitterRmsPs, "must be >= 0");
        Require(MisalignmentError >= 0 && MisalignmentError <= 0.5, nameof(MisalignmentError), MisalignmentError, "must lie in [0, 0.5]");

        Require(Math.Abs(ClockDriftPpm) <= 1000, nameof(ClockDriftPpm), ClockDriftPpm, "must lie in [-1000, 1000]");
        Require(Enum.IsDefined(ReceiverLayout), nameof(ReceiverLayout), (int)ReceiverLayout,
            $"must be one of {string.Join(", ", Enum.GetNames<ReceiverLayout>())}");

        if (Eavesdropper is null)
            throw new LinkProfileException("eavesdropper", "eavesdropper must not be null (use { \"kind\": \"None\" })");
        Require(Enum.IsDefined(Eavesdropper.Kind), "eavesdropper.kind", (int)Eavesdropper.Kind,
            $"must be one of {string.Join(", ", Enum.GetNames<EavesdropperKind>())}");
        Require(Eavesdropper.Fraction >= 0 && Eavesdropper.Fraction <= 1, "eavesdropper.fraction", Eavesdropper.Fraction, "must lie in [0, 1]");
    }

    private static void RequireProbability(double value, string property) =>
        Require(value >= 0 && value <= 1, property, value, "must lie in [0, 1]");

    private static void Require(bool condition, string property, double value, string rule)
    {
        if (condition) return;
        string field = JsonName(property);
        throw new LinkProfileException(field, $"{field} {rule}, got {Format(value)}");
    }

    private static string JsonName(string property) =>
        property.Contains('.') ? property : char.ToLowerInvariant(property[0]) + property[1..];

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
