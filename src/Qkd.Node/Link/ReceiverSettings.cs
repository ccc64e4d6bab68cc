using System.Text.Json;
using System.Text.Json.Serialization;
using Qkd.Acquisition;
using Qkd.Core;
using Qkd.Core.Json;
using Qkd.Emulation;
using Qkd.Emulation.TimeTagging;

namespace Qkd.Node.Link;

/// <summary>
/// How Bob's receiver is wired and timed, as a node on real devices must be told (the emulator knows it from its
/// profile): which tagger input carries Alice's sync and which the detectors, the calibrated cable delays
/// (<c>qkd calibrate delays</c>), the path delay from a pulse's sync to its light at the detectors, the acceptance
/// gate, and optionally what to set the detector heads to. Units are in the names.
/// </summary>
public sealed record ReceiverSettings
{
    /// <summary>
    /// The receiver: "passiveFourDetector" (default; a beam splitter chooses the basis) or "activeTwoDetector" (Bob's
    /// detector module has a basis modulator fed with his own choices, and a basis-marker output on a tagger input).
    /// </summary>
    [JsonConverter(typeof(CamelCaseEnumConverter<ReceiverLayout>))]
    public ReceiverLayout Layout { get; init; } = ReceiverLayout.PassiveFourDetector;

    /// <summary>Active receiver: probability that Bob chooses Z for a slot. Default 0.5.</summary>
    public double BasisProbabilityZ { get; init; } = 0.5;

    /// <summary>Active receiver: tagger input of the detector module's basis-marker output.</summary>
    public int? BasisMarkerChannel { get; init; }

    /// <summary>Active receiver: delay of the basis-marker input relative to the marked slot's light at the detectors, ps.</summary>
    public long BasisMarkerDelayPs { get; init; }

    /// <summary>Tagger input of Alice's sync. Default 0.</summary>
    public int SyncChannel { get; init; }

    /// <summary>Tagger input of each detector, in the receiver's detector order (passive BB84: Z0, Z1, X0, X1; active: 0, 1). Default 1..4.</summary>
    public int[] DetectorChannels { get; init; } = [1, 2, 3, 4];

    /// <summary>Cable and electronics delay of each detector input, ps (as <see cref="DetectorChannels"/>); null: all zero.</summary>
    public long[]? DetectorDelaysPs { get; init; }

    /// <summary>Delay of the sync input, ps.</summary>
    public long SyncDelayPs { get; init; }

    /// <summary>From a pulse's sync reference to its light at the detectors (mostly the fibre), ps.</summary>
    public double PathDelayPs { get; init; }

    /// <summary>Acceptance window around the expected arrival in each pulse slot, ps (at most one pulse period). Default 500.</summary>
    public double GateWidthPs { get; init; } = 500;

    /// <summary>Efficiency to set on every detector head (0..1); null leaves the heads as they are.</summary>
    public double? DetectorEfficiency { get; init; }

    /// <summary>Dead time to set on every detector head, ps; null leaves the heads as they are.</summary>
    public long? DetectorDeadTimePs { get; init; }

    /// <summary>The emulated receiver's wiring and timing: what a lab engineer would measure on it.</summary>
    public static ReceiverSettings ForEmulated(LinkProfile profile, LinkSettings settings, EmulatedTimeTaggerOptions tagger)
    {
        var clock = EmulatedSetup.ClockRecoveryOptionsFor(profile, settings, tagger with { SyncDivider = settings.PulsesPerSync });
        return new ReceiverSettings
        {
            Layout = profile.ReceiverLayout,
            BasisProbabilityZ = profile.BobProbabilityZ,
            BasisMarkerChannel = clock.BasisMarkerChannel,
            BasisMarkerDelayPs = clock.BasisMarkerDelayPs,
            SyncChannel = clock.SyncChannel,
            DetectorChannels = clock.DetectorChannels.Select(c => (int)c).ToArray(),
            DetectorDelaysPs = clock.DetectorDelaysPs,
            SyncDelayPs = clock.SyncDelayPs,
            PathDelayPs = Math.Round(clock.PathDelayPs),
            GateWidthPs = Math.Round(clock.GateWidthPs),
            DetectorEfficiency = profile.DetectorEfficiency,
            DetectorDeadTimePs = profile.DeadTimePs,
        };
    }

    /// <summary>Clock recovery for these settings and Alice's <paramref name="link"/> settings (pulse rate, sync divider).</summary>
    public ClockRecoveryOptions ClockRecovery(LinkSettings link) => new()
    {
        PulseRateHz = link.PulseRateHz,
        SyncDivider = link.PulsesPerSync,
        SyncChannel = (ushort)SyncChannel,
        DetectorChannels = DetectorChannels.Select(c => (ushort)c).ToArray(),
        DetectorDelaysPs = DetectorDelaysPs,
        SyncDelayPs = SyncDelayPs,
        PathDelayPs = PathDelayPs,
        GateWidthPs = GateWidthPs,
        BasisMarkerChannel = Layout == ReceiverLayout.ActiveTwoDetector && BasisMarkerChannel is int marker and >= 0 and <= ushort.MaxValue ? (ushort)marker : null,
        BasisMarkerDelayPs = Layout == ReceiverLayout.ActiveTwoDetector ? BasisMarkerDelayPs : 0,
    };

    /// <summary>Every problem with these settings against <paramref name="link"/>, each naming its field (as in JSON).</summary>
    public IEnumerable<string> Problems(LinkSettings link)
    {
        if (SyncChannel is < 0 or > ushort.MaxValue) yield return $"syncChannel {SyncChannel} is not a tagger input (0..65535)";
        bool active = Layout == ReceiverLayout.ActiveTwoDetector;
        if (!Enum.IsDefined(Layout)) yield return $"layout {(int)Layout} is not \"passiveFourDetector\" or \"activeTwoDetector\"";
        else if (DetectorChannels is null || DetectorChannels.Length != Layout.DetectorCount())
            yield return active
                ? $"detectorChannels must list the {Layout.DetectorCount()} detectors of an active receiver (bit 0, bit 1)"
                : $"detectorChannels must list the {Layout.DetectorCount()} detectors of a passive BB84 receiver (Z0, Z1, X0, X1)";
        else if (DetectorChannels.Any(c => c is < 0 or > ushort.MaxValue)) yield return "detectorChannels must be tagger inputs (0..65535)";
        if (DetectorEfficiency is double efficiency && !(efficiency > 0 && efficiency <= 1)) yield return $"detectorEfficiency {efficiency} is outside (0, 1]";
        if (DetectorDeadTimePs is long dead && dead is < 0 or > 1_000_000_000) yield return $"detectorDeadTimePs {dead} is outside [0, 1e9]";
        if (active)
        {
            if (BasisMarkerChannel is null) yield return "basisMarkerChannel is required for an active receiver (the tagger input of its basis-marker output)";
            else if (BasisMarkerChannel is < 0 or > ushort.MaxValue) yield return $"basisMarkerChannel {BasisMarkerChannel} is not a tagger input (0..65535)";
            if (!(BasisProbabilityZ > 0 && BasisProbabilityZ < 1)) yield return $"basisProbabilityZ {BasisProbabilityZ} is outside (0, 1)";
        }
        else if (BasisMarkerChannel is not null) yield return "basisMarkerChannel applies to an active receiver only (layout \"activeTwoDetector\")";
        string? clockProblem = null;
        if (DetectorChannels is { Length: > 0 } && SyncChannel is >= 0 and <= ushort.MaxValue && DetectorChannels.All(c => c is >= 0 and <= ushort.MaxValue))
        {
            try
            {
                ClockRecovery(link).Validate();
            }
            catch (ArgumentException e)
            {
                clockProblem = $"{JsonName(e.ParamName)}: {FirstSentence(e.Message)}";
            }
        }
        if (clockProblem is not null) yield return clockProblem;
    }

    private static string JsonName(string? option) => option switch
    {
        nameof(ClockRecoveryOptions.DetectorChannels) => "detectorChannels",
        nameof(ClockRecoveryOptions.DetectorDelaysPs) => "detectorDelaysPs",
        nameof(ClockRecoveryOptions.SyncDelayPs) => "syncDelayPs",
        nameof(ClockRecoveryOptions.PathDelayPs) => "pathDelayPs",
        nameof(ClockRecoveryOptions.GateWidthPs) => "gateWidthPs",
        nameof(ClockRecoveryOptions.BasisMarkerChannel) => "basisMarkerChannel",
        nameof(ClockRecoveryOptions.BasisMarkerDelayPs) => "basisMarkerDelayPs",
        null => "receiver",
        _ => JsonNamingPolicy.CamelCase.ConvertName(option),
    };

    // ArgumentException appends " (Parameter 'x')" and, for out-of-range, the actual value: keep the first line.
    private static string FirstSentence(string message) => message.Split('\n')[0].Split(" (Parameter")[0];

    public string ToJson() => JsonSerializer.Serialize(this, ReceiverSettingsJsonContext.Default.ReceiverSettings);

    /// <summary>Parses receiver settings (absent fields keep their defaults; unknown fields are an error).</summary>
    /// <exception cref="InvalidDataException">Malformed JSON or an unknown or mistyped field.</exception>
    public static ReceiverSettings Parse(string json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, ReceiverSettingsJsonContext.Default.ReceiverSettingsDocument)?.ToSettings()
                   ?? throw new InvalidDataException("the receiver settings are null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"receiver{(e.Path is null or "$" ? "" : e.Path.TrimStart('$'))}: {e.Message}", e);
        }
    }
}

/// <summary>
/// The JSON of <see cref="ReceiverSettings"/> as read, every field optional: source-generated deserialization would
/// otherwise turn an absent field into 0 rather than its default.
/// </summary>
internal sealed class ReceiverSettingsDocument
{
    [JsonConverter(typeof(CamelCaseEnumConverter<ReceiverLayout>))]
    public ReceiverLayout? Layout { get; set; }
    public double? BasisProbabilityZ { get; set; }
    public int? BasisMarkerChannel { get; set; }
    public long? BasisMarkerDelayPs { get; set; }
    public int? SyncChannel { get; set; }
    public int[]? DetectorChannels { get; set; }
    public long[]? DetectorDelaysPs { get; set; }
    public long? SyncDelayPs { get; set; }
    public double? PathDelayPs { get; set; }
    public double? GateWidthPs { get; set; }
    public double? DetectorEfficiency { get; set; }
    public long? DetectorDeadTimePs { get; set; }

    public ReceiverSettings ToSettings()
    {
        var d = new ReceiverSettings();
        ReceiverLayout layout = Layout ?? d.Layout;
        return new ReceiverSettings
        {
            Layout = layout,
            BasisProbabilityZ = BasisProbabilityZ ?? d.BasisProbabilityZ,
            BasisMarkerChannel = BasisMarkerChannel,
            BasisMarkerDelayPs = BasisMarkerDelayPs ?? d.BasisMarkerDelayPs,
            SyncChannel = SyncChannel ?? d.SyncChannel,
            // An active receiver has two detectors: its default wiring is inputs 1 and 2.
            DetectorChannels = DetectorChannels ?? (layout == ReceiverLayout.ActiveTwoDetector ? [1, 2] : d.DetectorChannels),
            DetectorDelaysPs = DetectorDelaysPs,
            SyncDelayPs = SyncDelayPs ?? d.SyncDelayPs,
            PathDelayPs = PathDelayPs ?? d.PathDelayPs,
            GateWidthPs = GateWidthPs ?? d.GateWidthPs,
            DetectorEfficiency = DetectorEfficiency,
            DetectorDeadTimePs = DetectorDeadTimePs,
        };
    }
}

/// <summary>Source-generated JSON of <see cref="ReceiverSettings"/> (Native AOT): camelCase, indented, unknown fields rejected.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow, ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(ReceiverSettings))]
[JsonSerializable(typeof(ReceiverSettingsDocument))]
internal sealed partial class ReceiverSettingsJsonContext : JsonSerializerContext;
