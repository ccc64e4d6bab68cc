using System.Text.Json;
using System.Text.Json.Serialization;
using Qkd.Protocol;
using Qkd.Hardware.Devices;

namespace Qkd.Node.Devices;

/// <summary>
/// A bench of real devices (or emulated ones behind real serial ports): where the laser modulator, the single-photon
/// detector and the time tagger are reached. One file format serves the lab commands (<c>--bench FILE</c>) and the
/// HIL hardware target (its "devices" section):
/// <code>
/// { "modulator": { "usbSerialNumber": "MOD-0001" },
///   "detector":  { "serialPort": "/dev/qkd/detector-SPD-0001-tty" },
///   "tagger":    { "usbSerialNumber": "TT-0042" } }
/// </code>
/// </summary>
public sealed record DeviceBench
{
    public required DeviceAddress Modulator { get; init; }
    public required DeviceAddress Detector { get; init; }
    public required DeviceAddress Tagger { get; init; }

    /// <summary>Alice's QRNG (optional): keys and re-keys her symbol generator, mixed with the OS CSPRNG.</summary>
    public DeviceAddress? RandomNumberGenerator { get; init; }

    /// <summary>Free text for reports ("lab bench 1, 25 km spool").</summary>
    public string? Description { get; init; }

    /// <summary>
    /// How long the host waits for each device's reply, milliseconds (50..60,000); null: the protocol's default
    /// (<see cref="DeviceConnectionOptions.ReplyTimeout"/>, 500 ms). Devices behind a slow hub, or emulated devices
    /// sharing a loaded machine with the host, need more.
    /// </summary>
    public int? ReplyTimeoutMs { get; init; }

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Reads and checks a bench file; every problem names the file and the field, and nothing is opened.</summary>
    /// <exception cref="InvalidDataException">The file is not a valid bench.</exception>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    public static DeviceBench Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Bench file '{path}' does not exist.", path);
        try
        {
            return Parse(File.ReadAllText(path));
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Parses and checks a bench (the JSON of a file, or a section of one).</summary>
    /// <exception cref="InvalidDataException">The JSON is not a valid bench.</exception>
    public static DeviceBench Parse(string json)
    {
        DeviceBench bench;
        try
        {
            bench = JsonSerializer.Deserialize<DeviceBench>(json, Json) ?? throw new InvalidDataException("the bench is null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException(e.Message, e);
        }
        bench.Validate();
        return bench;
    }

    /// <summary>Throws <see cref="InvalidDataException"/> naming the first bad device address.</summary>
    public void Validate()
    {
        string? problem = Modulator.Problem("modulator") ?? Detector.Problem("detector") ?? Tagger.Problem("tagger");
        problem ??= RandomNumberGenerator?.Problem("random number generator");
        if (problem is null && ReplyTimeoutMs is int ms && ms is < 50 or > 60_000)
            problem = $"replyTimeoutMs {ms} is outside 50..60000";
        if (problem is not null) throw new InvalidDataException(problem);
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>The bench's devices as a rig, not yet connected (with the bench's reply timeout unless options are given).</summary>
    public LinkRig CreateRig(DeviceConnectionOptions? connectionOptions = null, string? source = null) =>
        LinkRig.CreateHardware(Modulator.Connector(DeviceClass.LaserModulator), Detector.Connector(DeviceClass.SinglePhotonDetector),
            Tagger.Connector(DeviceClass.TimeTagger),
            $"{Description ?? "device bench"}{(source is null ? "" : $" ({source})")}: modulator {Modulator}, detector {Detector}, tagger {Tagger}",
            connectionOptions ?? (ReplyTimeoutMs is int ms ? new DeviceConnectionOptions { ReplyTimeout = TimeSpan.FromMilliseconds(ms) } : null));
}
