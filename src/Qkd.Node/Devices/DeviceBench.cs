using Qkd.Hardware.Peripherals;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Qkd.Protocol;
using Qkd.Hardware.Devices;

namespace Qkd.Node.Devices;

/// <summary>
/// A bench of real devices (or emulated ones behind real serial ports): where the laser modulator, the single-photon
/// detector and the time tagger are reached. One format serves the lab commands (<c>--bench FILE</c>), the HIL hardware
/// target (its "devices" section) and a node configuration (its "devices" section: one end's devices only):
/// <code>
/// { "modulator": { "usbSerialNumber": "MOD-0001" },
///   "detector":  { "serialPort": "/dev/qkd/detector-SPD-0001-tty" },
///   "tagger":    { "usbSerialNumber": "TT-0042" } }
/// </code>
/// Which devices a bench must name depends on its use (<see cref="BenchUse"/>): a lab bench and a HIL target drive the
/// whole link (all three), Alice's node her modulator (and optionally a QRNG), Bob's node his detector and tagger.
/// </summary>
public sealed record DeviceBench
{
    /// <summary>Alice's laser modulator.</summary>
    public DeviceAddress? Modulator { get; init; }

    /// <summary>Bob's single-photon detector.</summary>
    public DeviceAddress? Detector { get; init; }

    /// <summary>Bob's time tagger.</summary>
    public DeviceAddress? Tagger { get; init; }

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

    /// <summary>
    /// How long a write to a serial device may wait for the device to take the bytes, milliseconds (50..120,000); null:
    /// 2,000 ms. A modulator's stream frame is hundreds of kB, taken as fast as the device reads: emulated firmware that
    /// shares a loaded machine can fall seconds behind, and a write cut off by the timeout leaves a half frame on the line.
    /// </summary>
    public int? WriteTimeoutMs { get; init; }

    /// <summary>The serial write timeout the bench asks for (null: the default).</summary>
    [JsonIgnore]
    public TimeSpan? SerialWriteTimeout => WriteTimeoutMs is int ms ? TimeSpan.FromMilliseconds(ms) : null;

    /// <summary>Optional GPIO lines (interlock input, gate-enable output); opened by <see cref="NodePeripherals"/>.</summary>
    public GpioLinesConfig? Gpio { get; init; }

    /// <summary>Optional peripherals (bias DAC, housing temperature, monitor photodiode ADC); opened by <see cref="NodePeripherals"/>.</summary>
    public PeripheralsConfig? Peripherals { get; init; }

    internal static JsonTypeInfo<DeviceBench> Json => Service.NodeJson.Bench;

    /// <summary>Reads and checks a bench file; every problem names the file and the field, and nothing is opened.</summary>
    /// <param name="path">The bench file.</param>
    /// <param name="use">What the bench is for, which says the devices it must (and must not) name.</param>
    /// <exception cref="InvalidDataException">The file is not a valid bench.</exception>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    public static DeviceBench Load(string path, BenchUse use = BenchUse.Link)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Bench file '{path}' does not exist.", path);
        try
        {
            return Parse(File.ReadAllText(path), use);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Parses and checks a bench (the JSON of a file, or a section of one).</summary>
    /// <exception cref="InvalidDataException">The JSON is not a valid bench.</exception>
    public static DeviceBench Parse(string json, BenchUse use = BenchUse.Link)
    {
        DeviceBench bench;
        try
        {
            bench = JsonSerializer.Deserialize(json, Json) ?? throw new InvalidDataException("the bench is null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException(e.Message, e);
        }
        bench.Validate(use);
        return bench;
    }

    /// <summary>Throws <see cref="InvalidDataException"/> naming the first bad or missing device address.</summary>
    public void Validate(BenchUse use = BenchUse.Link)
    {
        string? problem = Problems(use).FirstOrDefault();
        if (problem is not null) throw new InvalidDataException(problem);
    }

    /// <summary>Every problem with the bench for <paramref name="use"/>, each naming the field.</summary>
    public IEnumerable<string> Problems(BenchUse use)
    {
        bool link = use == BenchUse.Link, alice = use == BenchUse.Alice, bob = use == BenchUse.Bob;
        foreach (var (address, name, needed, belongs) in new (DeviceAddress?, string, bool, string?)[]
                 {
                     (Modulator, "modulator", link || alice, bob ? "Alice's node" : null),
                     (Detector, "detector", link || bob, alice ? "Bob's node" : null),
                     (Tagger, "tagger", link || bob, alice ? "Bob's node" : null),
                 })
        {
            if (address is null)
            {
                if (needed) yield return $"\"{name}\" is required ({Describe(use)} needs a {name})";
            }
            else if (belongs is not null)
                yield return $"\"{name}\" belongs to {belongs}, not to {Describe(use)}";
            else if (address.Problem(name) is { } problem)
                yield return problem;
        }
        // Optional for either end: Alice's keys her symbols; Bob's may key his squashing and distiller sources.
        if (RandomNumberGenerator?.Problem("random number generator") is { } rng) yield return rng;
        if (ReplyTimeoutMs is int ms && ms is < 50 or > 60_000)
            yield return $"replyTimeoutMs {ms} is outside 50..60000";
        if (WriteTimeoutMs is int write && write is < 50 or > 120_000)
            yield return $"writeTimeoutMs {write} is outside 50..120000";
        if (Gpio?.Problem("gpio") is { } gpio) yield return gpio;
        if (Peripherals?.Problem("peripherals") is { } peripherals) yield return peripherals;
    }

    private static string Describe(BenchUse use) => use switch
    {
        BenchUse.Alice => "Alice's node",
        BenchUse.Bob => "Bob's node",
        _ => "a link bench",
    };

    /// <summary>The reply timeout the bench asks for, as connection options (null: the protocol's default).</summary>
    [JsonIgnore]
    public DeviceConnectionOptions? ConnectionOptions =>
        ReplyTimeoutMs is int ms ? new DeviceConnectionOptions { ReplyTimeout = TimeSpan.FromMilliseconds(ms) } : null;

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>The bench's devices as a rig, not yet connected (with the bench's reply timeout unless options are given).</summary>
    /// <exception cref="InvalidDataException">The bench does not name all three devices.</exception>
    public LinkRig CreateRig(DeviceConnectionOptions? connectionOptions = null, string? source = null)
    {
        Validate(BenchUse.Link);
        return LinkRig.CreateHardware(Modulator!.Connector(DeviceClass.LaserModulator, SerialWriteTimeout),
            Detector!.Connector(DeviceClass.SinglePhotonDetector, SerialWriteTimeout), Tagger!.Connector(DeviceClass.TimeTagger, SerialWriteTimeout),
            $"{Description ?? "device bench"}{(source is null ? "" : $" ({source})")}: modulator {Modulator}, detector {Detector}, tagger {Tagger}",
            connectionOptions ?? ConnectionOptions);
    }
}
