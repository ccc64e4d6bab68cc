using Qkd.Emulation;
using Qkd.Emulation.Firmware;
using Qkd.Emulation.TimeTagging;
using Qkd.Node.Link;

namespace Qkd.Node.Devices;

/// <summary>
/// A two-node link bench that stands in for hardware (`qkd emulate --link-bench DIR`): Alice's laser modulator and Bob's
/// detector and time tagger as emulated firmware on pseudo-terminals, with the physics between them (fibre, detectors,
/// the tagger's clock) inside this process. Two nodes configured with <see cref="AliceBench"/> and <see cref="BobBench"/>
/// open the ports with System.IO.Ports and drive the devices exactly as they drive hardware.
/// </summary>
/// <remarks>
/// Besides the two device files, the bench writes what a lab engineer would have measured on a real bench: the link
/// settings it suits (<see cref="Settings"/>: a pulse rate a serial line carries) and Bob's receiver wiring, delays and
/// gate (<see cref="Receiver"/>), which `qkd node init --bench` copies into the nodes' configurations.
/// </remarks>
public sealed class EmulatedLinkBench : IDisposable
{
    public const string AliceFile = "alice-bench.json";
    public const string BobFile = "bob-bench.json";
    public const string SettingsFile = "link-settings.json";
    public const string ReceiverFile = "receiver.json";

    /// <summary>
    /// 1 MHz: Alice streams half a byte of symbols per pulse (0.5 MB/s) and Bob's tagger about 16 bytes per tag, well
    /// within the few MB/s a pseudo-terminal moves on a loaded machine.
    /// </summary>
    public const double DefaultPulseRateHz = 1e6;

    /// <summary>Pulses per sync at the bench's pulse rate: a sync every 64 µs at 1 MHz.</summary>
    public const int DefaultPulsesPerSync = 64;

    /// <summary>Fibre length of a link bench unless told otherwise: short, so a MHz of pulses distils a block in seconds.</summary>
    public const double DefaultDistanceKm = 2;

    /// <summary>
    /// The settings a bench at <paramref name="pulseRateHz"/> suits: a sync every <see cref="DefaultPulsesPerSync"/>
    /// pulses, and a Z-basis probability of 0.6 (not the 0.75 of a GHz link): at a MHz the finite-key analysis needs
    /// more X-basis detections per 2^19-bit block to bound the phase error (measured: no key at 0.75 with 2^19-bit blocks).
    /// </summary>
    public static LinkSettings SettingsFor(double pulseRateHz) =>
        LinkSettings.Default with { PulseRateHz = pulseRateHz, PulsesPerSync = DefaultPulsesPerSync, AliceProbabilityZ = 0.6 };

    /// <summary>Tagger input of an active receiver's basis marker on a link bench.</summary>
    public const ushort ActiveBasisMarkerChannel = 7;

    /// <summary>
    /// The physics and wiring of an active two-detector receiver in place of the passive one: Bob chooses Z as often as
    /// Alice prepares it, the two detectors keep the first two inputs' delays, and the basis marker is on
    /// <see cref="ActiveBasisMarkerChannel"/> with its own cable delay.
    /// </summary>
    public static (LinkProfile Profile, EmulatedTimeTaggerOptions Tagger) WithActiveReceiver(LinkProfile profile, LinkSettings settings,
        EmulatedTimeTaggerOptions tagger, long markerDelayPs = 5_678)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(tagger);
        return (profile with { ReceiverLayout = Core.ReceiverLayout.ActiveTwoDetector, BobProbabilityZ = settings.AliceProbabilityZ },
            tagger with
            {
                DetectorDelaysPs = tagger.DetectorDelaysPs is { } delays ? delays[..2] : null,
                BasisMarkerChannel = ActiveBasisMarkerChannel,
                BasisMarkerDelayPs = markerDelayPs,
            });
    }

    private readonly EmulatedSerialBench _bench;

    /// <param name="profile">The physics (fibre length, detectors).</param>
    /// <param name="settings">The link settings the bench suits (its pulse rate and sync divider); the nodes set the devices to them.</param>
    /// <param name="taggerOptions">The tagger's wiring and cable delays.</param>
    /// <param name="seed">Seed of the emulated physics (never of a node's choices).</param>
    public EmulatedLinkBench(LinkProfile profile, LinkSettings settings, EmulatedTimeTaggerOptions taggerOptions, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        _bench = new EmulatedSerialBench(profile, taggerOptions with { SyncDivider = settings.PulsesPerSync }, seed);
        Settings = settings;
        Receiver = ReceiverSettings.ForEmulated(profile, settings, taggerOptions);
        var all = _bench.Bench;
        AliceBench = new DeviceBench
        {
            Description = $"Alice's devices of an emulated link bench (seed {seed})",
            Modulator = all.Modulator,
            ReplyTimeoutMs = all.ReplyTimeoutMs,
            WriteTimeoutMs = all.WriteTimeoutMs,
        };
        BobBench = new DeviceBench
        {
            Description = $"Bob's devices of an emulated link bench (seed {seed})",
            Detector = all.Detector,
            Tagger = all.Tagger,
            ReplyTimeoutMs = all.ReplyTimeoutMs,
            WriteTimeoutMs = all.WriteTimeoutMs,
        };
    }

    /// <summary>The emulated firmware (fault hooks, counters).</summary>
    public EmulatedLinkDevices Devices => _bench.Devices;

    public DeviceBench AliceBench { get; }

    public DeviceBench BobBench { get; }

    public LinkSettings Settings { get; }

    public ReceiverSettings Receiver { get; }

    /// <summary>Writes the two device files, the link settings and the receiver settings into <paramref name="directory"/>.</summary>
    public void WriteTo(string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, SettingsFile), LinkSettingsJsonConverter.SectionJson(Settings));
        File.WriteAllText(Path.Combine(directory, ReceiverFile), Receiver.ToJson());
        // The device files last: a reader waiting for them finds the rest in place.
        File.WriteAllText(Path.Combine(directory, AliceFile), AliceBench.ToJson());
        File.WriteAllText(Path.Combine(directory, BobFile), BobBench.ToJson());
    }

    /// <summary>What a bench folder holds, read back and checked (for `qkd node init --bench`).</summary>
    /// <exception cref="InvalidDataException">A file is missing or invalid; the message names it.</exception>
    public static (DeviceBench Alice, DeviceBench Bob, LinkSettings Settings, ReceiverSettings Receiver) Read(string directory)
    {
        string Need(string name)
        {
            string path = Path.Combine(directory, name);
            if (!File.Exists(path)) throw new InvalidDataException($"{path} does not exist (is `qkd emulate --link-bench {directory}` running?)");
            return path;
        }
        var alice = DeviceBench.Load(Need(AliceFile), BenchUse.Alice);
        var bob = DeviceBench.Load(Need(BobFile), BenchUse.Bob);
        string settingsPath = Need(SettingsFile), receiverPath = Need(ReceiverFile);
        LinkSettings settings;
        try
        {
            settings = LinkSettings.Parse(File.ReadAllText(settingsPath));
        }
        catch (LinkSettingsException e)
        {
            throw new InvalidDataException($"{settingsPath}: {e.Message}", e);
        }
        ReceiverSettings receiver;
        try
        {
            receiver = ReceiverSettings.Parse(File.ReadAllText(receiverPath));
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{receiverPath}: {e.Message}", e);
        }
        if (receiver.Problems(settings).FirstOrDefault() is { } problem) throw new InvalidDataException($"{receiverPath}: {problem}");
        return (alice, bob, settings, receiver);
    }

    public void Dispose() => _bench.Dispose();
}
