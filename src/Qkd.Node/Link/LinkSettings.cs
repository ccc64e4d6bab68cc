using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Qkd.Core;
using Qkd.Core.Symbols;
using Qkd.Distillation;
using Qkd.Distillation.ParameterEstimation;
using Qkd.Emulation;

namespace Qkd.Node.Link;

/// <summary>
/// What a link is set to, as opposed to what it physically is (<see cref="LinkProfile"/>: source, fibre, detectors,
/// clocks, eavesdropper): Alice's pulse rate and intensity levels, the probabilities of her random choices, the sync
/// divider, and the distillation's block sizes. Both ends of a link must use the same settings. Alice's laser
/// modulator is configured from them (<see cref="ConfigureModulator"/>); the emulated physics learns the light Alice
/// sends from the modulator's settings (or, emulated directly, from <see cref="Light"/>), never from a second copy.
/// Units are in the names; the defaults are the built-in link's. Every field is listed in src/Qkd.Node/README.md.
/// </summary>
public sealed record LinkSettings
{
    /// <summary>The built-in settings (all defaults).</summary>
    public static LinkSettings Default { get; } = new();

    // ---- Alice's transmitter (the laser modulator's settings) ------------------------------------------------

    /// <summary>Pulses per second. Default 1 GHz.</summary>
    public double PulseRateHz { get; init; } = 1e9;

    /// <summary>mu1: mean photon number of a signal pulse. Default 0.5.</summary>
    public double SignalMeanPhotonNumber { get; init; } = 0.5;

    /// <summary>mu2: mean photon number of a decoy pulse. Default 0.15.</summary>
    public double DecoyMeanPhotonNumber { get; init; } = 0.15;

    /// <summary>mu3: mean photon number of a vacuum pulse. Default 0.</summary>
    public double VacuumMeanPhotonNumber { get; init; }

    /// <summary>Pulses per sync tag: the sync output fires at pulses 0, d, 2d, ... Default 1024 (about 1 MHz at 1 GHz).</summary>
    public int PulsesPerSync { get; init; } = 1024;

    // ---- Alice's random choices (the protocol) ---------------------------------------------------------------

    /// <summary>Probability that a pulse is a signal pulse. Default 0.65.</summary>
    public double SignalProbability { get; init; } = 0.65;

    /// <summary>Probability that a pulse is a decoy pulse. Default 0.25.</summary>
    public double DecoyProbability { get; init; } = 0.25;

    /// <summary>Probability that a pulse is a vacuum pulse. Default 0.10; the three sum to 1.</summary>
    public double VacuumProbability { get; init; } = 0.10;

    /// <summary>Probability that Alice prepares a pulse in the Z basis (the key basis). Default 0.75.</summary>
    public double AliceProbabilityZ { get; init; } = 0.75;

    // ---- Distillation ----------------------------------------------------------------------------------------

    /// <summary>Sifted Z bits per privacy-amplification block (the finite-key block size). Default 2^23.</summary>
    public long BlockSizeBits { get; init; } = 1L << 23;

    /// <summary>
    /// At the end of a session, leftover sifted Z bits are distilled as a last block only if at least this many; null
    /// (the default): 2^16 or the block size, whichever is smaller.
    /// </summary>
    public long? MinimumFinalBlockBits { get; init; }

    /// <summary>
    /// The finite-key analysis both ends size the key with: "lim2014", "rusca2018" (one decoy; vacuumProbability may be
    /// 0), "zhang2017" (Chernoff bounds), "curraslorenzo2021" (Kato's inequality; the default: the most key on the
    /// default link) or "yin2020" (Yin et al.'s closed-form bounds). See src/Qkd.Distillation/README.md.
    /// </summary>
    public string FiniteKey { get; init; } = FiniteKeyAnalyses.Name(FiniteKeyAnalyses.Default);

    /// <summary>
    /// Error correction: <c>cascade</c> (the default; least leakage, about a thousand round trips a block),
    /// <c>ldpc</c> (rate-adaptive LDPC, one message each way a block plus a few blind rounds) or <c>auto</c> (per block:
    /// LDPC when the measured round trip times Cascade's rounds would exceed the block's light time). Both ends use
    /// the same value.
    /// </summary>
    [JsonConverter(typeof(ReconciliationMethodJsonConverter))]
    public global::Qkd.Distillation.ErrorCorrection.ReconciliationMethod Reconciliation { get; init; } = global::Qkd.Distillation.ErrorCorrection.ReconciliationMethod.Cascade;

    // ---- Derived (not serialised) ----------------------------------------------------------------------------

    /// <summary>Time between pulses, picoseconds.</summary>
    [JsonIgnore]
    public double PulsePeriodPs => Units.PeriodPs(PulseRateHz);

    /// <summary>The light Alice sends with these settings, for physics emulated without a modulator in between.</summary>
    [JsonIgnore]
    public TransmitterLight Light => new(PulseRateHz, SignalMeanPhotonNumber, DecoyMeanPhotonNumber, VacuumMeanPhotonNumber);

    /// <summary><see cref="MinimumFinalBlockBits"/>, or its default for the block size.</summary>
    [JsonIgnore]
    public long EffectiveMinimumFinalBlockBits => MinimumFinalBlockBits ?? Math.Min(1L << 16, BlockSizeBits);

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

    /// <summary>Alice's choice probabilities as her symbol source uses them.</summary>
    public SymbolDistribution SymbolDistribution() => new(AliceProbabilityZ, [SignalProbability, DecoyProbability, VacuumProbability]);

    /// <summary>The distillation settings both ends use: the decoy settings, block sizes; the rest at their defaults.</summary>
    public DistillationOptions Distillation() => new()
    {
        MeanPhotonNumbers = Intensities.All.Select(MeanPhotonNumber).ToArray(),
        IntensityProbabilities = [SignalProbability, DecoyProbability, VacuumProbability],
        BlockSizeBits = BlockSizeBits,
        MinimumFinalBlockBits = EffectiveMinimumFinalBlockBits,
        FiniteKeyAnalysis = FiniteKeyAnalyses.TryParse(FiniteKey, out var analysis)
            ? analysis
            : throw new LinkSettingsException("finiteKey", $"finiteKey must be one of {FiniteKeyAnalyses.Names}, got '{FiniteKey}'"),
        Reconciliation = Reconciliation,
        PulseRateHz = PulseRateHz,
    };

    /// <summary>Sets Alice's modulator to these settings: pulse rate, the three intensity levels and the sync divider.</summary>
    public void ConfigureModulator(Hardware.Modulator.ILaserModulator modulator)
    {
        ArgumentNullException.ThrowIfNull(modulator);
        modulator.SetPulseRateHz((long)Math.Round(PulseRateHz));
        foreach (var level in Intensities.All) modulator.SetMeanPhotonNumber(level, MeanPhotonNumber(level));
        modulator.SetSyncDivider(PulsesPerSync);
    }

    // ---- Validation ------------------------------------------------------------------------------------------

    /// <summary>Checks every setting's range and the relations between them.</summary>
    /// <exception cref="LinkSettingsException">The first violation; the message and <see cref="LinkSettingsException.Setting"/> name the setting (as in JSON).</exception>
    public void Validate()
    {
        try
        {
            Light.Validate();
        }
        catch (LinkProfileException e)
        {
            throw new LinkSettingsException(e.Field, e.Message, e);
        }
        Require(PulsesPerSync >= 1 && PulsesPerSync <= 1 << 20, "pulsesPerSync", PulsesPerSync, "must lie in [1, 1048576]");
        RequireProbability(SignalProbability, "signalProbability");
        RequireProbability(DecoyProbability, "decoyProbability");
        RequireProbability(VacuumProbability, "vacuumProbability");
        double sum = SignalProbability + DecoyProbability + VacuumProbability;
        Require(Math.Abs(sum - 1) <= 1e-9, "signalProbability", sum, "+ decoyProbability + vacuumProbability must equal 1");
        Require(AliceProbabilityZ > 0 && AliceProbabilityZ < 1, "aliceProbabilityZ", AliceProbabilityZ, "must lie strictly between 0 and 1");
        Require(BlockSizeBits >= 1024 && BlockSizeBits <= 1L << 30, "blockSizeBits", BlockSizeBits, "must lie in [1024, 2^30]");
        // A vacuum probability of 0 (a one-decoy link, or a calibration run) is checked against the analysis when distilling.
        if (!FiniteKeyAnalyses.TryParse(FiniteKey, out _))
            throw new LinkSettingsException("finiteKey", $"finiteKey must be one of {FiniteKeyAnalyses.Names}, got '{FiniteKey}'");
        if (MinimumFinalBlockBits is long minimum)
            Require(minimum >= 1024 && minimum <= BlockSizeBits, "minimumFinalBlockBits", minimum, $"must lie in [1024, blockSizeBits ({BlockSizeBits})]");
    }

    private static void RequireProbability(double value, string setting) =>
        Require(value >= 0 && value <= 1, setting, value, "must lie in [0, 1]");

    private static void Require(bool condition, string setting, double value, string rule)
    {
        if (!condition) throw new LinkSettingsException(setting, $"{setting} {rule}, got {value.ToString("R", CultureInfo.InvariantCulture)}");
    }

    // ---- JSON ------------------------------------------------------------------------------------------------

    /// <summary>Parses and validates settings; fields left out keep their defaults, unknown fields are an error.</summary>
    /// <exception cref="LinkSettingsException">Malformed JSON, an unknown field, a wrongly typed value or a value out of range.</exception>
    public static LinkSettings Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        LinkSettingsDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(json, LinkSettingsJsonContext.Default.LinkSettingsDocument);
        }
        catch (JsonException e)
        {
            throw new LinkSettingsException(e.Path ?? "$", $"Invalid link settings JSON: {e.Message}", e);
        }
        if (document is null) throw new LinkSettingsException("$", "Invalid link settings JSON: the document is null.");
        var settings = document.ToSettings();
        settings.Validate();
        return settings;
    }

    /// <summary>The settings as indented camelCase JSON, readable by <see cref="Parse"/>.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, LinkSettingsJsonContext.Default.LinkSettings);

    /// <summary>The JSON names of the settings (camelCase), e.g. to tell them apart from a link profile's fields.</summary>
    public static IReadOnlyList<string> JsonNames { get; } =
        LinkSettingsJsonContext.Default.LinkSettingsDocument.Properties.Select(p => p.Name).ToArray();
}

/// <summary>A link setting is malformed or out of range; <see cref="Setting"/> is its JSON name (for example <c>pulsesPerSync</c>).</summary>
public sealed class LinkSettingsException : ArgumentException
{
    public LinkSettingsException(string setting, string message, Exception? innerException = null)
        : base(message, innerException) => Setting = setting;

    public string Setting { get; }
}

/// <summary>
/// The JSON document of <see cref="LinkSettings"/> as read: every setting optional (absent: its default). Source-generated
/// deserialization would set the record's init-only properties in one object initialiser, turning every absent setting
/// into 0 rather than its default; this document keeps "absent" apart.
/// </summary>
internal sealed class LinkSettingsDocument
{
    public double? PulseRateHz { get; set; }
    public double? SignalMeanPhotonNumber { get; set; }
    public double? DecoyMeanPhotonNumber { get; set; }
    public double? VacuumMeanPhotonNumber { get; set; }
    public int? PulsesPerSync { get; set; }
    public double? SignalProbability { get; set; }
    public double? DecoyProbability { get; set; }
    public double? VacuumProbability { get; set; }
    public double? AliceProbabilityZ { get; set; }
    public long? BlockSizeBits { get; set; }
    public long? MinimumFinalBlockBits { get; set; }
    public string? FiniteKey { get; set; }
    [JsonConverter(typeof(ReconciliationMethodJsonConverter))]
    public global::Qkd.Distillation.ErrorCorrection.ReconciliationMethod? Reconciliation { get; set; }

    public LinkSettings ToSettings()
    {
        var d = LinkSettings.Default;
        return new LinkSettings
        {
            PulseRateHz = PulseRateHz ?? d.PulseRateHz,
            SignalMeanPhotonNumber = SignalMeanPhotonNumber ?? d.SignalMeanPhotonNumber,
            DecoyMeanPhotonNumber = DecoyMeanPhotonNumber ?? d.DecoyMeanPhotonNumber,
            VacuumMeanPhotonNumber = VacuumMeanPhotonNumber ?? d.VacuumMeanPhotonNumber,
            PulsesPerSync = PulsesPerSync ?? d.PulsesPerSync,
            SignalProbability = SignalProbability ?? d.SignalProbability,
            DecoyProbability = DecoyProbability ?? d.DecoyProbability,
            VacuumProbability = VacuumProbability ?? d.VacuumProbability,
            AliceProbabilityZ = AliceProbabilityZ ?? d.AliceProbabilityZ,
            BlockSizeBits = BlockSizeBits ?? d.BlockSizeBits,
            MinimumFinalBlockBits = MinimumFinalBlockBits ?? d.MinimumFinalBlockBits,
            FiniteKey = FiniteKey ?? d.FiniteKey,
            Reconciliation = Reconciliation ?? d.Reconciliation,
        };
    }
}

/// <summary><c>reconciliation</c> as a camelCase name (<c>cascade</c>, <c>ldpc</c>, <c>auto</c>); reading ignores case.</summary>
public sealed class ReconciliationMethodJsonConverter()
    : JsonStringEnumConverter<global::Qkd.Distillation.ErrorCorrection.ReconciliationMethod>(JsonNamingPolicy.CamelCase, allowIntegerValues: false);

/// <summary>Source-generated JSON of <see cref="LinkSettings"/> (Native AOT): camelCase, indented, unknown fields rejected.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow, ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(LinkSettings))]
[JsonSerializable(typeof(LinkSettingsDocument))]
internal sealed partial class LinkSettingsJsonContext : JsonSerializerContext;
