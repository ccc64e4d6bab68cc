using System.Text.Json;

namespace Qkd.NetworkHost;

/// <summary>
/// One trusted node of a network as `qkd network node --config network-node.json` runs it: which node of which
/// topology it is, its operator key and relay state, and per neighbour the link: an ordinary node config for the QKD
/// link end (`qkd alice`/`qkd bob` format, its own pool, channel, KME link and emulated devices) and the network's own
/// classical channel to that neighbour (endpoint and pre-shared secret). Paths are relative to the file's folder.
/// `qkd network up` writes one per node; an operator writes them by hand for nodes on separate gateways.
/// </summary>
public sealed record NetworkNodeConfig
{
    /// <summary>The network's net.json.</summary>
    public required string Topology { get; init; }

    /// <summary>This node's ID in the topology.</summary>
    public required string NodeId { get; init; }

    /// <summary>Seals the relayed keys held for slave SAEs at rest (32 bytes, mode 0600).</summary>
    public required string OperatorKeyFile { get; init; }

    /// <summary>The relay's state (SQLite).</summary>
    public string RelayDatabase { get; init; } = "relay.db";

    /// <summary>
    /// How long this node keeps keys relayed to its SAEs that they have not fetched (dec_keys), in seconds; then they
    /// are deleted and counted (<c>keysExpired</c>), and a later dec_keys for them gets 400 (unknown key). Default one
    /// hour; at least 60 (twice the relay timeout: a key must not expire before its origin commits it), at most 30 days.
    /// </summary>
    public double RelayedKeyLifetimeSeconds { get; init; } = 3600;

    /// <summary>One per neighbour in the topology.</summary>
    public required IReadOnlyList<NetworkLinkConfig> Links { get; init; }

    /// <summary>The relay load this node drives while the orchestrator says so (it sends "load" on standard input).</summary>
    public RelayLoadOptions Load { get; init; } = new();

    /// <summary>
    /// The node's ETSI GS QKD 014 server (the `keyDelivery` section of a `qkd alice`/`qkd bob` config: address, port,
    /// certificates, client CAs and CRLs, <c>localSaes</c> with their certificate identities, limits), serving keys
    /// relayed to and from the SAEs of every other node. <c>kmeId</c>, <c>peerKmeId</c> and <c>peerSaes</c> come from the
    /// topology (the KME ID is the node ID); <c>localSaes</c> must be this node's SAEs there. Null: no ETSI server.
    /// </summary>
    public Kme.Delivery.KeyDeliveryOptions? KeyDelivery { get; init; }

    /// <summary>
    /// The node's tamper-evident audit log and its key (src/Qkd.Audit; the `audit` section of a `qkd alice`/`qkd bob`
    /// config): the node's start and stop, and every relayed key delivery its ETSI server makes (enc_keys once the relay
    /// committed, dec_keys; SAE and key IDs, never key material). Null: none.
    /// </summary>
    public Audit.AuditLogOptions? Audit { get; init; }

    /// <summary>Where the node writes its result (figures, never key material) when it stops.</summary>
    public string ResultFile { get; init; } = "result.json";

    /// <summary>The file it was read from (its hash goes into the audit log's nodeStarted); null when built in code.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string? SourceFile { get; init; }

    /// <summary>The folder the file was read from (paths in it are relative to it).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string BaseDirectory { get; init; } = Environment.CurrentDirectory;

    public string PathOf(string path) => Path.GetFullPath(Path.Combine(BaseDirectory, path));

    /// <summary>Reads and checks the file.</summary>
    /// <exception cref="InvalidDataException">The file is unreadable or wrong; the message names it and the field.</exception>
    public static NetworkNodeConfig FromFile(string path)
    {
        NetworkNodeConfig config;
        try
        {
            config = JsonSerializer.Deserialize(File.ReadAllText(path), NetworkHostJson.NodeConfig)
                     ?? throw new InvalidDataException("the file is empty");
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
        config = config with { BaseDirectory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".", SourceFile = Path.GetFullPath(path) };
        var problems = config.Problems().ToList();
        if (problems.Count > 0) throw new InvalidDataException($"{path}: {string.Join("; ", problems)}");
        return config;
    }

    public IEnumerable<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(NodeId)) yield return "nodeId is required";
        if (string.IsNullOrWhiteSpace(Topology)) yield return "topology is required";
        if (string.IsNullOrWhiteSpace(OperatorKeyFile)) yield return "operatorKeyFile is required";
        if (!(RelayedKeyLifetimeSeconds is >= 60 and <= 30 * 86400))
            yield return $"relayedKeyLifetimeSeconds {RelayedKeyLifetimeSeconds} is outside 60..2592000 (a minute to 30 days)";
        for (int i = 0; i < Links.Count; i++)
        {
            var l = Links[i];
            if (string.IsNullOrWhiteSpace(l.Neighbour)) yield return $"links[{i}].neighbour is required";
            if (l.Role is not ("alice" or "bob")) yield return $"links[{i}].role must be \"alice\" or \"bob\", not \"{l.Role}\"";
            if (Node.Service.ConfiguredEndpoint.TryParse(l.RelayEndpoint) is null) yield return $"links[{i}].relayEndpoint \"{l.RelayEndpoint}\" is not host:port";
            if (string.IsNullOrWhiteSpace(l.RelaySecretFile)) yield return $"links[{i}].relaySecretFile is required";
            if (string.IsNullOrWhiteSpace(l.QkdConfig) == string.IsNullOrWhiteSpace(l.PresharedKeyFile)) yield return $"links[{i}]: exactly one of qkdConfig and presharedKeyFile";
        }
        if (Links.Select(l => l.Neighbour).Distinct(StringComparer.Ordinal).Count() != Links.Count) yield return "links: one link per neighbour";
        foreach (string p in Load.Problems()) yield return $"load.{p}";
        foreach (string p in Audit?.Problems() ?? []) yield return p;
        if (KeyDelivery is { } d)
        {
            if (d.LocalSaes.Count == 0) yield return "keyDelivery.localSaes is empty: no SAE could call this node's KME";
            if (string.IsNullOrWhiteSpace(d.ServerCertificatePath)) yield return "keyDelivery.serverCertificatePath is required";
            if (d.TrustedClientCaPaths.Count == 0) yield return "keyDelivery.trustedClientCaPaths is empty";
        }
    }
}

/// <param name="Neighbour">The node at the other end.</param>
/// <param name="Role">This end of the QKD link: "alice" (the link's a end; connects) or "bob" (listens).</param>
/// <param name="RelayEndpoint">The network's classical channel to the neighbour: Bob listens here, Alice connects.</param>
/// <param name="RelaySecretFile">Its pre-shared secret (the first authentication key; both ends hold the same file).</param>
/// <param name="RelayStateDirectory">Its pad cursor (never reuse pad bits).</param>
/// <param name="QkdConfig">The QKD link end: a `qkd alice`/`qkd bob` node config (its pool is the link's key). Empty with <paramref name="PresharedKeyFile"/>.</param>
/// <param name="PresharedKeyFile">Instead of a QKD link end: random key the orchestrator wrote into both ends' folders (OS
/// CSPRNG), loaded once into the link's own pool (<c>keys.db</c> beside it) and then deleted. A stand-in for QKD, said so
/// in every status line and report.</param>
public sealed record NetworkLinkConfig(string Neighbour, string Role, string RelayEndpoint, string RelaySecretFile, string RelayStateDirectory, string QkdConfig,
    string? PresharedKeyFile = null);

/// <summary>The relay requests a node makes while the load runs: to the SAEs of every node that is not its neighbour.</summary>
public sealed record RelayLoadOptions
{
    /// <summary>Keys per request (ETSI number), 1..64.</summary>
    public int KeysPerRequest { get; init; } = 1;

    /// <summary>Requests in flight at once per node.</summary>
    public int Concurrency { get; init; } = 2;

    /// <summary>Also relay to neighbours' SAEs (one hop); off by default: a neighbour's SAE takes key from the link's own pool.</summary>
    public bool IncludeNeighbours { get; init; }

    public IEnumerable<string> Problems()
    {
        if (KeysPerRequest is < 1 or > 64) yield return $"keysPerRequest {KeysPerRequest} is outside 1..64";
        if (Concurrency is < 1 or > 64) yield return $"concurrency {Concurrency} is outside 1..64";
    }
}
