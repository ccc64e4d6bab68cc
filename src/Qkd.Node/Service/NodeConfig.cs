using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Qkd.Emulation;
using Qkd.Hardware.Devices;
using Qkd.Kme.Delivery;
using Qkd.Node.Devices;
using Qkd.Node.Link;
using Qkd.Node.Metrics;

namespace Qkd.Node.Service;

/// <summary>
/// One end of a link as an operator configures it (`qkd alice --config alice.json`, `qkd bob --config bob.json`):
/// its role, the classical channel to the peer, the key pool, the ETSI 014 server, and the devices (the emulator with
/// its fibre to the peer, in this build). Strict: an unknown field or a bad value is an error naming the field.
/// </summary>
public sealed record NodeConfig
{
    /// <summary>"alice" (transmitter; connects the classical channel) or "bob" (receiver; listens).</summary>
    public required string Role { get; init; }

    /// <summary>Names the link: both ends must use the same; key IDs derive from it.</summary>
    public required string LinkId { get; init; }

    public required ClassicalChannelConfig ClassicalChannel { get; init; }

    private readonly KeyPoolConfig? _keyPool;
    private readonly KeyPoolConfig? _formerKeyStore;

    /// <summary>The key pool: a SQLite file, keys encrypted with the operator's key ("keyPool").</summary>
    public KeyPoolConfig KeyPool
    {
        get => _keyPool ?? _formerKeyStore ?? throw new InvalidDataException("keyPool is required");
        init => _keyPool = value;
    }

    /// <summary>
    /// The same section under its former name, "keyStore": read so that configs written before the rename keep
    /// working, never written.
    /// </summary>
    [JsonPropertyName("keyStore")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public KeyPoolConfig? FormerKeyStore
    {
        get => null;
        init => _formerKeyStore = value;
    }

    /// <summary>The ETSI GS QKD 014 server; null runs the node without one.</summary>
    public KeyDeliveryOptions? KeyDelivery { get; init; }

    /// <summary>Hybrid keys (QKD key combined with ML-KEM-768, Key request extension {"hybrid": "ml-kem-768"}); null: none.</summary>
    public Kme.Hybrid.HybridKeysConfig? Hybrid { get; init; }

    /// <summary>Serves pool keys to enrolled vehicle key modules over the post-quantum channel; null: no gateway.</summary>
    public Kme.Vehicle.VehicleGatewayConfig? VehicleGateway { get; init; }

    /// <summary>
    /// In-process emulated devices with an emulated fibre to the peer's node (for trying the link out and tests).
    /// Exactly one of <see cref="Emulator"/> and <see cref="Devices"/>.
    /// </summary>
    public EmulatorConfig? Emulator { get; init; }

    /// <summary>
    /// The end's real devices (or emulated ones behind real ports: `qkd emulate --link-bench`), in the format of the lab
    /// tools' bench files: Alice her modulator, Bob his detector and tagger. Exactly one of <see cref="Emulator"/> and
    /// <see cref="Devices"/>.
    /// </summary>
    public DeviceBench? Devices { get; init; }

    /// <summary>
    /// The link's settings (pulse rate, intensities and their probabilities, basis probability, sync divider); both
    /// ends must agree. Absent: the built-in ones. The block size is the top-level <see cref="BlockSizeBits"/>.
    /// </summary>
    [JsonConverter(typeof(LinkSettingsJsonConverter))]
    public LinkSettings? Link { get; init; }

    /// <summary>Bob on devices: his tagger's wiring, calibrated delays and gate (required there; the emulator knows its own).</summary>
    [JsonConverter(typeof(ReceiverSettingsJsonConverter))]
    public ReceiverSettings? Receiver { get; init; }

    /// <summary>
    /// On devices: the file `qkd calibrate gate|alignment --write-config` wrote (relative to this file's folder): Bob's
    /// detector gate, Alice's modulator phases, applied each time the devices are configured. Null: left as they are.
    /// </summary>
    public string? Calibration { get; init; }

    /// <summary>The calibration file's settings, or null without one.</summary>
    /// <exception cref="ArgumentException">The file is missing or damaged; the message names it and the field.</exception>
    public DeviceCalibration? LoadCalibration() => Calibration is null ? null : DeviceCalibration.Load(PathOf(Calibration));

    /// <summary>The link monitor's thresholds ("monitor"); absent: the defaults (src/Qkd.Monitoring/README.md). Bob's node feeds it.</summary>
    public Monitoring.MonitorOptions? Monitor { get; init; }

    /// <summary>The Prometheus scrape endpoint; null (no "metrics" section) runs the node without one.</summary>
    public MetricsConfig? Metrics { get; init; }

    /// <summary>The tamper-evident audit log and its key (src/Qkd.Audit); null (no "audit" section): none.</summary>
    public Audit.AuditLogOptions? Audit { get; init; }

    /// <summary>
    /// Unset (the default, and what `qkd node init` writes): Alice's symbols, Bob's squashing and the distillers'
    /// randomness come from the OS CSPRNG, under fresh keys every session. Set: they follow from this seed and the
    /// session number, so anyone who knows it can compute every key: for tests and emulation only, warned about on
    /// every session. (emulator.seed seeds only the emulated physics.)
    /// </summary>
    public ulong? InsecureFixedSeed { get; init; }

    /// <summary>The seed of a session's choices when <see cref="InsecureFixedSeed"/> is set (no session repeats another's); null otherwise.</summary>
    public ulong? SessionInsecureSeed(long session) =>
        InsecureFixedSeed is ulong seed ? Core.Random.SplitMix64.Mix(seed ^ ((ulong)session * 0x9E3779B97F4A7C15UL)) : null;

    /// <summary>Link time per session, seconds; the node keeps serving keys afterwards until stopped.</summary>
    public double DurationSeconds { get; init; } = 1.0;

    /// <summary>Sessions to run, back to back; 0: until stopped. The node keeps serving keys after the last.</summary>
    public int Sessions { get; init; }

    /// <summary>
    /// Bits of every distilled block that refill the classical channel's authentication pad (both ends alike; at most
    /// half a block). Each classical message costs a 128-bit tag: a 2^23-bit block takes about 2,800 messages (2,300 for
    /// multiplexed Cascade, verification and amplification, 470 for 2^16-detection sift batches), about 0.36 Mbit of pad,
    /// against 2.4 Mbit of secret key (default emulated link, `qkd run --emulator`).
    /// </summary>
    public int AuthenticationReplenishBits { get; init; } = 1 << 19;

    /// <summary>Sifted Z bits per privacy-amplification block (both ends must agree); the link settings' <see cref="Node.Link.LinkSettings.BlockSizeBits"/>.</summary>
    public long BlockSizeBits { get; init; } = 1L << 23;

    [JsonIgnore]
    public string BaseDirectory { get; init; } = Environment.CurrentDirectory;

    /// <summary>The file the configuration was read from (null when built in code), for errors that name it.</summary>
    [JsonIgnore]
    public string? SourceFile { get; init; }

    public bool IsAlice => Role == "alice";

    /// <summary>A path from the config, relative to the config file's folder.</summary>
    public string PathOf(string path) => Path.GetFullPath(Path.Combine(BaseDirectory, path));

    private static JsonTypeInfo<NodeConfig> Json => NodeJson.Config;

    /// <summary>The config as its file holds it (what <see cref="Load"/> reads back).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static NodeConfig Load(string path)
    {
        NodeConfig config;
        try
        {
            config = JsonSerializer.Deserialize(File.ReadAllText(path), Json) ?? throw new InvalidDataException("the file is empty");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
        config = config with { BaseDirectory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".", SourceFile = Path.GetFullPath(path) };
        var problems = config.Problems().ToList();
        if (problems.Count > 0) throw new InvalidDataException($"{path}: " + string.Join("; ", problems));
        return config;
    }

    public IEnumerable<string> Problems()
    {
        if (Role is not ("alice" or "bob")) yield return $"role must be \"alice\" or \"bob\", not \"{Role}\"";
        if (string.IsNullOrWhiteSpace(LinkId) || LinkId.Length > 100) yield return "linkId must be 1..100 characters";
        if (!(DurationSeconds > 0 && DurationSeconds <= 3600)) yield return $"durationSeconds {DurationSeconds} is outside (0, 3600]";
        if (Sessions < 0) yield return $"sessions {Sessions} is negative";
        if (AuthenticationReplenishBits < 0 || AuthenticationReplenishBits % 8 != 0) yield return $"authenticationReplenishBits {AuthenticationReplenishBits} must be a non-negative multiple of 8";
        if (BlockSizeBits < 1 << 16 || BlockSizeBits > 1L << 30) yield return $"blockSizeBits {BlockSizeBits} is outside [65536, 2^30]";
        if (ConfiguredEndpoint.TryParse(ClassicalChannel.Endpoint) is not { } channel) yield return $"classicalChannel.endpoint \"{ClassicalChannel.Endpoint}\" is not {ConfiguredEndpoint.Expected}";
        else if (ClassicalChannel.KmeLinkEndpoint is null && channel.Port is 0 or IPEndPoint.MaxPort)
            yield return $"classicalChannel.kmeLinkEndpoint is required when classicalChannel.endpoint's port is {channel.Port}";
        if (ClassicalChannel.KmeLinkEndpoint is { } kmeLink && ConfiguredEndpoint.TryParse(kmeLink) is null)
            yield return $"classicalChannel.kmeLinkEndpoint \"{kmeLink}\" is not {ConfiguredEndpoint.Expected}";
        if (string.IsNullOrWhiteSpace(ClassicalChannel.PreSharedSecretFile)) yield return "classicalChannel.preSharedSecretFile is required";
        if (_keyPool is null && _formerKeyStore is null) yield return "keyPool is required";
        else if (_keyPool is not null && _formerKeyStore is not null) yield return "keyPool and keyStore (its former name) are both given: keep keyPool";
        else
        {
            if (string.IsNullOrWhiteSpace(KeyPool.Database)) yield return "keyPool.database is required";
            if ((KeyPool.OperatorKeyFile is null) == (KeyPool.OperatorKeyEnvironmentVariable is null))
                yield return "keyPool needs exactly one of operatorKeyFile and operatorKeyEnvironmentVariable";
            if (KeyPool.KeySizeBits is < 64 or > 8192 || KeyPool.KeySizeBits % 8 != 0) yield return $"keyPool.keySizeBits {KeyPool.KeySizeBits} must be a multiple of 8 in 64..8192";
            if (!(KeyPool.ReservationExpirySeconds >= 1 && KeyPool.ReservationExpirySeconds <= 30 * 86400))
                yield return $"keyPool.reservationExpirySeconds {KeyPool.ReservationExpirySeconds} is outside [1, 2592000] (30 days)";
        }
        if ((Emulator is null) == (Devices is null)) yield return "exactly one of \"devices\" (real devices) and \"emulator\" is required";
        if (Emulator is not null)
        {
            if (ConfiguredEndpoint.TryParse(Emulator.Fibre) is null) yield return $"emulator.fibre \"{Emulator.Fibre}\" is not {ConfiguredEndpoint.Expected}";
            if (Emulator.Transport is not ("inproc" or "pty")) yield return $"emulator.transport must be \"inproc\" or \"pty\", not \"{Emulator.Transport}\"";
            if (Receiver is not null) yield return "receiver applies to devices: the emulator knows its own wiring and delays";
            if (Emulator.RandomNumberGenerator?.Problem() is { } rng) yield return $"emulator.randomNumberGenerator.{rng}";
        }
        if (Calibration is not null && Emulator is not null) yield return "calibration applies to devices: the emulator has no gate or phase to set";
        string? calibrationProblem = null;
        try { if (Devices is not null) LoadCalibration(); }
        catch (ArgumentException e) { calibrationProblem = "calibration: " + e.Message; }
        if (calibrationProblem is not null) yield return calibrationProblem;
        if (Devices is not null && Role is "alice" or "bob")
            foreach (string problem in Devices.Problems(IsAlice ? BenchUse.Alice : BenchUse.Bob)) yield return "devices: " + problem;
        Link.LinkSettings? settings = null;
        string? settingsProblem = null;
        try
        {
            settings = LinkSettings();
        }
        catch (LinkSettingsException e)
        {
            settingsProblem = (Link is null ? "" : "link.") + e.Message;
        }
        catch (Exception e) when (e is LinkProfileException or IOException)
        {
            settingsProblem = "emulator.profile: " + e.Message;
        }
        if (settingsProblem is not null) yield return settingsProblem;
        if (Devices is not null && !IsAlice && Role == "bob")
        {
            if (Receiver is null) yield return "receiver is required for Bob on devices (his tagger's sync and detector inputs, delays and gate)";
            else if (settings is not null)
                foreach (string problem in Receiver.Problems(settings)) yield return "receiver." + problem;
        }
        if (Metrics is not null)
            foreach (string problem in Metrics.Problems()) yield return problem;
        if (Monitor is not null)
            foreach (string problem in Monitor.Problems()) yield return problem;
        foreach (string problem in Audit?.Problems() ?? []) yield return problem;
        if (KeyDelivery is not null)
        {
            string? problem = null;
            // The key manager listens on an address; the node also takes a host name there and resolves it at start.
            var delivery = ConfiguredEndpoint.TryParse($"{KeyDelivery.ListenAddress}:0") is { IsHostName: true } ? KeyDelivery with { ListenAddress = "127.0.0.1" } : KeyDelivery;
            try { delivery.Validate(); }
            catch (ArgumentException e) { problem = "keyDelivery: " + e.Message; }
            if (problem is not null) yield return problem;
        }
    }

    /// <summary>
    /// The emulated link's physics and the link's settings. Physics: the emulator's profile file, or the built-in
    /// profile, at the configured distance. Settings: see <see cref="LinkSettings"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The node runs on devices: there is no emulated physics.</exception>
    public (LinkProfile Profile, LinkSettings Settings) EmulatedLink()
    {
        var emulator = Emulator ?? throw new InvalidOperationException("This node runs on devices: it has no emulated physics.");
        var profile = emulator.Profile is null ? Emulation.LinkProfile.Default : LinkProfileFile.Load(PathOf(emulator.Profile)).Profile;
        return (emulator.DistanceKm is double km ? profile.WithDistance(km) : profile, LinkSettings());
    }

    /// <summary>The emulated link's physics (see <see cref="EmulatedLink"/>).</summary>
    public LinkProfile LinkProfile() => EmulatedLink().Profile;

    /// <summary>
    /// The link's settings: the "link" section (or the built-in settings) with this config's <see cref="BlockSizeBits"/>,
    /// and on the emulator the transmitter settings its profile file carries (<see cref="LinkProfileFile"/>). Both ends
    /// must end up with the same settings.
    /// </summary>
    /// <exception cref="LinkSettingsException">A setting is out of range (the message names it).</exception>
    public LinkSettings LinkSettings()
    {
        var settings = (Link ?? Node.Link.LinkSettings.Default) with { BlockSizeBits = BlockSizeBits };
        if (Emulator?.Profile is string file) settings = LinkProfileFile.Load(PathOf(file), settings).Settings;
        settings.Validate();
        return settings;
    }

    /// <summary>Bob's receiver: a passive four-detector receiver on devices, the emulated profile's otherwise.</summary>
    [JsonIgnore]
    public Core.ReceiverLayout ReceiverLayout => Devices is not null ? Receiver?.Layout ?? Core.ReceiverLayout.PassiveFourDetector : LinkProfile().ReceiverLayout;

    /// <summary>An active receiver's probability of choosing Z: the receiver section's on devices, the emulated profile's otherwise.</summary>
    [JsonIgnore]
    public double ReceiverBasisProbabilityZ => Devices is not null ? Receiver?.BasisProbabilityZ ?? 0.5 : LinkProfile().BobProbabilityZ;

    /// <summary>
    /// How Bob's clock recovery finds the pulse of each tag: from the "receiver" section on devices, from the emulated
    /// physics and wiring otherwise.
    /// </summary>
    public Acquisition.ClockRecoveryOptions ReceiverClock(LinkSettings settings) => Devices is not null
        ? (Receiver ?? throw new InvalidOperationException("Bob on devices needs a receiver section.")).ClockRecovery(settings)
        : EmulatedSetup.ClockRecoveryOptionsFor(EmulatedLink().Profile, settings,
            EmulatedSetup.TaggerOptionsFor(settings, long.MaxValue, EmulatedLink().Profile.ReceiverLayout));
}

/// <param name="Endpoint">Bob listens here, Alice connects here: host:port ("127.0.0.1:7001", "bob.example.net:7001").</param>
/// <param name="PreSharedSecretFile">The out-of-band secret both nodes hold; the first authentication key (mode 0600).</param>
/// <param name="StateDirectory">Where the channel keeps its authentication-key cursor (never reuse pad bits).</param>
/// <param name="KmeLinkEndpoint">The KME link (key reservations between the two KMEs): Bob listens, Alice connects. Null
/// in configs written before the field: then the channel's host and port + 1, with a warning at start.</param>
public sealed record ClassicalChannelConfig(string Endpoint, string PreSharedSecretFile, string StateDirectory = "state", string? KmeLinkEndpoint = null)
{
    /// <summary>The KME link's endpoint (see <see cref="KmeLinkEndpoint"/>); call only when the config has no problems.</summary>
    public ConfiguredEndpoint KmeLink()
    {
        if (KmeLinkEndpoint is { } kmeLink) return ConfiguredEndpoint.Parse(kmeLink, "classicalChannel.kmeLinkEndpoint");
        var channel = ConfiguredEndpoint.Parse(Endpoint, "classicalChannel.endpoint");
        return channel.WithPort(channel.Port + 1);
    }
}

/// <param name="Database">SQLite file of the key pool.</param>
/// <param name="OperatorKeyFile">The key that encrypts key material at rest (32 bytes, hex or raw, mode 0600).</param>
/// <param name="OperatorKeyEnvironmentVariable">Or: the environment variable holding it (hex).</param>
/// <param name="ReservationExpirySeconds">How long a key reserved by the peer's enc_keys waits for its slave SAE's
/// dec_keys before it is deleted (at this end; the master's end holds nothing more for it). Give both nodes the same.</param>
public sealed record KeyPoolConfig(string Database, string? OperatorKeyFile = null, string? OperatorKeyEnvironmentVariable = null,
    int KeySizeBits = 256, long MaxKeyCount = 10_000_000, double ReservationExpirySeconds = 3600);

/// <param name="Fibre">The emulated fibre, host:port: Bob listens, Alice's light goes there.</param>
/// <param name="Profile">Link profile JSON (relative to the config file); null: built-in.</param>
/// <param name="Seed">Seed of the emulated physics only (photon statistics, detectors, clocks); never of the choices
/// an eavesdropper must not predict (see <see cref="NodeConfig.InsecureFixedSeed"/>).</param>
/// <param name="RandomNumberGenerator">An emulated QRNG that keys Alice's symbols (mixed with the OS CSPRNG); null: none.</param>
public sealed record EmulatorConfig(string Fibre, string? Profile = null, double? DistanceKm = null, ulong Seed = 7, string Transport = "inproc",
    Entropy.EmulatedQrngConfig? RandomNumberGenerator = null);
