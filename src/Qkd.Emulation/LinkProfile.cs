using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Qkd.Core;

namespace Qkd.Emulation;

/// <summary>
/// What one link physically is, as the physics model needs it: Alice's source, the fibre, Bob's receiver and
/// detectors, the clocks and an optional eavesdropper. Units are in the names. The defaults describe a typical
/// decoy-state BB84 link over 25 km of standard fibre with InGaAs detectors; every field and its meaning is listed in
/// src/Qkd.Emulation/README.md. What the link is set to (Alice's pulse rate and intensity levels, the probabilities
/// of her choices, the sync divider) is not here: the light comes to the physics as a <see cref="TransmitterLight"/>
/// (from the emulated modulator's settings), the choices with Alice's symbols, and a node keeps them in its link
/// settings (Qkd.Node's LinkSettings, which also reads them from older profile files that still carry them).
/// </summary>
public sealed record LinkProfile
{
    /// <summary>Speed of light in vacuum, m/s.</summary>
    public const double SpeedOfLightMetresPerSecond = 299_792_458.0;

    /// <summary>The built-in profile (all defaults).</summary>
    public static LinkProfile Default { get; } = new();

    // ---- Alice's source -------------------------------------------------------------------------------------
    public double WavelengthNm { get; init; } = 1550;

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

    /// <summary>
    /// Offset in time between the efficiency windows of the bit-1 and the bit-0 detectors, ps: the bit-0 detectors'
    /// window is centred delta/2 before the nominal arrival of the light, the bit-1 detectors' delta/2 after it. At the
    /// nominal arrival both have <see cref="DetectorEfficiency"/>, so it matters only to light that arrives shifted
    /// (the time-shift attack).
    /// </summary>
    public double DetectorTimingMismatchPs { get; init; } = 60;

    /// <summary>RMS width of each detector's (Gaussian) efficiency-versus-arrival-time window, ps.</summary>
    public double DetectorEfficiencyWindowRmsPs { get; init; } = 80;
    /// <summary>e_mis of both bases unless <see cref="MisalignmentErrorZ"/> or <see cref="MisalignmentErrorX"/> overrides it.</summary>
    public double MisalignmentError { get; init; } = 0.01;

    /// <summary>
    /// e_mis of the Z basis alone; null: <see cref="MisalignmentError"/>. Each basis has its own optics (phase or
    /// polarisation reference), so aligning one must not move the other's error rate.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? MisalignmentErrorZ { get; init; }

    /// <summary>e_mis of the X basis alone; null: <see cref="MisalignmentError"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? MisalignmentErrorX { get; init; }

    // ---- Clocks ----------------------------------------------------------------------------------------------
    public long ClockOffsetPs { get; init; } = 1_000_000;
    public double ClockDriftPpm { get; init; } = 5;

    public ReceiverLayout ReceiverLayout { get; init; } = ReceiverLayout.PassiveFourDetector;

    public EavesdropperSpec Eavesdropper { get; init; } = EavesdropperSpec.None;

    // ---- Classical traffic in the same fibre: Raman background at Bob (RamanScattering, README) ----------------
    /// <summary>Classical channels sharing the fibre; null or empty: a dark fibre.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<CoexistingChannel>? ClassicalChannels { get; init; }

    /// <summary>Delta-lambda: the passband of Bob's filter, nm; null: 0.8 nm (a 100 GHz DWDM channel).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? ReceiverFilterBandwidthNm { get; init; }

    /// <summary>The time a gated detector collects light per gate, ps; null: 500 ps (at most the pulse period is used).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? DetectorGateWidthPs { get; init; }

    [JsonIgnore]
    public double EffectiveFilterBandwidthNm => ReceiverFilterBandwidthNm ?? 0.8;

    [JsonIgnore]
    public double EffectiveGateWidthPs => DetectorGateWidthPs ?? 500;

    // ---- Derived quantities (not serialised) -----------------------------------------------------------------

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

    /// <summary>
    /// Efficiency of the detectors of <paramref name="bit"/> for light arriving <paramref name="shiftPs"/> after its
    /// nominal time, relative to <see cref="DetectorEfficiency"/>: exp(-((t - c)^2 - c^2) / (2 w^2)) with
    /// c = -/+ mismatch/2 for bit 0/1 and w the window's RMS width; 1 at t = 0.
    /// </summary>
    public double EfficiencyFactorAt(int bit, double shiftPs)
    {
        double centre = (bit == 0 ? -0.5 : 0.5) * DetectorTimingMismatchPs;
        double w2 = 2 * DetectorEfficiencyWindowRmsPs * DetectorEfficiencyWindowRmsPs;
        double factor = Math.Exp(-((shiftPs - centre) * (shiftPs - centre) - centre * centre) / w2);
        return Math.Min(factor, 1.0 / DetectorEfficiency);
    }

    /// <summary>e_mis in <paramref name="basis"/>: its own value when set, else <see cref="MisalignmentError"/>.</summary>
    public double Misalignment(Basis basis) => (basis == Basis.Z ? MisalignmentErrorZ : MisalignmentErrorX) ?? MisalignmentError;

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
            profile = JsonSerializer.Deserialize(json, LinkProfileJson.Profile);
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
    public string ToJson() => JsonSerializer.Serialize(this, LinkProfileJson.Profile);

    // ---- Validation ------------------------------------------------------------------------------------------

    /// <summary>Checks every field's range and the relations between fields.</summary>
    /// <exception cref="LinkProfileException">The first violation found; the message names the field and the value.</exception>
    public void Validate()
    {
        Require(WavelengthNm > 0 && double.IsFinite(WavelengthNm), nameof(WavelengthNm), WavelengthNm, "must be > 0");
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
        Require(Math.Abs(DetectorTimingMismatchPs) <= 1e6, nameof(DetectorTimingMismatchPs), DetectorTimingMismatchPs, "must lie in [-1e6, 1e6]");
        Require(DetectorEfficiencyWindowRmsPs > 0 && DetectorEfficiencyWindowRmsPs <= 1e6, nameof(DetectorEfficiencyWindowRmsPs), DetectorEfficiencyWindowRmsPs, "must lie in (0, 1e6]");
        Require(MisalignmentError >= 0 && MisalignmentError <= 0.5, nameof(MisalignmentError), MisalignmentError, "must lie in [0, 0.5]");
        if (MisalignmentErrorZ is double z) Require(z >= 0 && z <= 0.5, nameof(MisalignmentErrorZ), z, "must lie in [0, 0.5]");
        if (MisalignmentErrorX is double x) Require(x >= 0 && x <= 0.5, nameof(MisalignmentErrorX), x, "must lie in [0, 0.5]");

        Require(Math.Abs(ClockDriftPpm) <= 1000, nameof(ClockDriftPpm), ClockDriftPpm, "must lie in [-1000, 1000]");
        Require(Enum.IsDefined(ReceiverLayout), nameof(ReceiverLayout), (int)ReceiverLayout,
            $"must be one of {string.Join(", ", Enum.GetNames<ReceiverLayout>())}");

        if (Eavesdropper is null)
            throw new LinkProfileException("eavesdropper", "eavesdropper must not be null (use { \"kind\": \"None\" })");
        Require(Enum.IsDefined(Eavesdropper.Kind), "eavesdropper.kind", (int)Eavesdropper.Kind,
            $"must be one of {string.Join(", ", Enum.GetNames<EavesdropperKind>())}");
        Require(Eavesdropper.Fraction >= 0 && Eavesdropper.Fraction <= 1, "eavesdropper.fraction", Eavesdropper.Fraction, "must lie in [0, 1]");
        if (Eavesdropper.StartSeconds is double start)
            Require(start >= 0 && start <= 1e9, "eavesdropper.startSeconds", start, "must lie in [0, 1e9]");
        if (Eavesdropper.ExtraLossDb is double loss)
            Require(loss >= 0 && loss <= 1000, "eavesdropper.extraLossDb", loss, "must lie in [0, 1000]");
        if (Eavesdropper.TimeShiftPs is double shift)
            Require(shift >= 0 && shift <= 1e6, "eavesdropper.timeShiftPs", shift, "must lie in [0, 1e6]");
        Require(EffectiveFilterBandwidthNm is > 0 and <= 100, nameof(ReceiverFilterBandwidthNm), EffectiveFilterBandwidthNm, "must lie in (0, 100]");
        Require(EffectiveGateWidthPs is > 0 and <= 1e9, nameof(DetectorGateWidthPs), EffectiveGateWidthPs, "must lie in (0, 1e9]");
        for (int i = 0; i < (ClassicalChannels?.Count ?? 0); i++)
            if ((ClassicalChannels![i] ?? throw new LinkProfileException($"classicalChannels[{i}]", $"classicalChannels[{i}] must not be null")).Problem($"classicalChannels[{i}]") is { } problem)
                throw new LinkProfileException($"classicalChannels[{i}]", problem);
    }

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
