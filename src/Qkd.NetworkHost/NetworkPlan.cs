using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using Qkd.ClassicalChannel;
using Qkd.Emulation;
using Qkd.Kme.Pool;
using Qkd.Network.Topology;
using Qkd.Node.Service;

namespace Qkd.NetworkHost;

/// <summary>
/// The folders of a network run on this machine (`qkd network up`): one per node, holding what that node's gateway
/// would hold on its own (nothing is shared between node folders: each link's two secrets are written into both ends'
/// folders, as an operator would carry them out of band). Per node: <c>network-node.json</c>, <c>operator.key</c>, the
/// relay state, and per link <c>links/&lt;link&gt;/</c> with the QKD link end's node config (<c>qkd.json</c>, the
/// `qkd alice`/`qkd bob` format), its emulated physics (<c>profile.json</c>, from the link's net.json entry), its pool
/// and channel state, and the network channel's secret.
/// </summary>
public static class NetworkPlan
{
    /// <summary>Ports per link from the link's base: relay channel, QKD session channel, KME link, emulated fibre.</summary>
    public const int PortsPerLink = 4;

    /// <summary>The file name of a node's config in its folder.</summary>
    public const string NodeConfigFile = "network-node.json";

    /// <summary>Bytes of each pre-shared secret (hash key and pad for the first authenticated messages).</summary>
    private const int SecretBytes = 4 << 20;

    /// <summary>
    /// The node config paths of a network in <paramref name="directory"/>: written fresh when the folder holds none (ports
    /// from <paramref name="basePort"/>), else the existing ones (a network run again restarts on its state: pads, pools
    /// and relay stores go on where they stopped).
    /// </summary>
    public static IReadOnlyDictionary<string, string> WriteOrReuse(NetworkTopology topology, string topologyPath, string directory, int basePort,
        NetworkLinkSettings settings, RelayLoadOptions load)
    {
        var existing = topology.Nodes.ToDictionary(n => n.Id, n => Path.Combine(directory, n.Id, NodeConfigFile), StringComparer.Ordinal);
        if (existing.Values.All(File.Exists)) return existing;
        if (existing.Values.Any(File.Exists))
            throw new InvalidDataException($"{directory}: holds the configs of some nodes of '{topology.Name}' but not all; remove the folder or name another (--state-dir)");
        return Write(topology, topologyPath, directory, basePort, settings, load);
    }

    /// <summary>Writes every node's folder (see the class remarks); returns each node's config path.</summary>
    public static IReadOnlyDictionary<string, string> Write(NetworkTopology topology, string topologyPath, string directory, int basePort,
        NetworkLinkSettings settings, RelayLoadOptions load)
    {
        Directory.CreateDirectory(directory);
        var links = new Dictionary<string, List<NetworkLinkConfig>>(StringComparer.Ordinal);
        foreach (var n in topology.Nodes)
        {
            Directory.CreateDirectory(Path.Combine(directory, n.Id));
            OperatorKey.WriteNewKeyFile(Path.Combine(directory, n.Id, "operator.key"));
            links[n.Id] = [];
        }
        for (int i = 0; i < topology.Links.Count; i++)
        {
            var link = topology.Links[i];
            int port = basePort + i * PortsPerLink;
            // The b end (Bob) listens on its gateway's address; the a end (Alice) connects there.
            string host = topology.Nodes.First(n => n.Id == link.B).Host;
            string relay = $"{host}:{port}", channel = $"{host}:{port + 1}", kmeLink = $"{host}:{port + 2}", fibre = $"{host}:{port + 3}";
            byte[] qkdSecret = RandomNumberGenerator.GetBytes(SecretBytes), relaySecret = RandomNumberGenerator.GetBytes(SecretBytes);
            byte[] presharedKey = settings.Source == LinkKeySource.Preshared ? RandomNumberGenerator.GetBytes(settings.PresharedKeyBytes) : [];
            try
            {
                foreach (var (nodeId, role) in new[] { (link.A, "alice"), (link.B, "bob") })
                {
                    string linkDirectory = Path.Combine(directory, nodeId, "links", link.Id);
                    Directory.CreateDirectory(linkDirectory);
                    WritePrivate(Path.Combine(linkDirectory, "qkd.secret"), qkdSecret);
                    WritePrivate(Path.Combine(linkDirectory, "relay.secret"), relaySecret);
                    File.WriteAllText(Path.Combine(linkDirectory, "profile.json"), Profile(link).ToJson());
                    var qkd = new NodeConfig
                    {
                        Role = role,
                        LinkId = link.Id,
                        ClassicalChannel = new ClassicalChannelConfig(channel, "qkd.secret", "qkd-state", kmeLink),
                        KeyPool = new KeyPoolConfig("keys.db", OperatorKeyFile: "../../operator.key", KeySizeBits: topology.KeySizeBits),
                        // Physics seed only (photon statistics, detector noise), one per link; every secret choice comes from the OS CSPRNG.
                        Emulator = new EmulatorConfig(fibre, Profile: "profile.json", Seed: (ulong)(i + 1) * 7919UL),
                        DurationSeconds = settings.SessionSeconds,
                        Sessions = 0,
                        BlockSizeBits = settings.BlockSizeBits,
                        AuthenticationReplenishBits = settings.AuthenticationReplenishBits,
                    };
                    File.WriteAllText(Path.Combine(linkDirectory, "qkd.json"), qkd.ToJson());
                    if (settings.Source == LinkKeySource.Preshared) WritePrivate(Path.Combine(linkDirectory, "preshared.key"), presharedKey);
                    links[nodeId].Add(settings.Source == LinkKeySource.Preshared
                        ? new NetworkLinkConfig(link.Other(nodeId), role, relay, $"links/{link.Id}/relay.secret", $"links/{link.Id}/relay-state", "",
                            $"links/{link.Id}/preshared.key")
                        : new NetworkLinkConfig(link.Other(nodeId), role, relay, $"links/{link.Id}/relay.secret", $"links/{link.Id}/relay-state",
                            $"links/{link.Id}/qkd.json"));
                }
            }
            finally
            {
                CryptographicOperations.ZeroMemory(qkdSecret);
                CryptographicOperations.ZeroMemory(relaySecret);
                CryptographicOperations.ZeroMemory(presharedKey);
            }
        }
        var paths = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var n in topology.Nodes)
        {
            var config = new NetworkNodeConfig
            {
                Topology = Path.GetFullPath(topologyPath),
                NodeId = n.Id,
                OperatorKeyFile = "operator.key",
                Links = links[n.Id],
                Load = load,
            };
            string path = paths[n.Id] = Path.Combine(directory, n.Id, NodeConfigFile);
            File.WriteAllText(path, JsonSerializer.Serialize(config, NetworkHostJson.Default.NetworkNodeConfig));
        }
        return paths;
    }

    /// <summary>The emulated physics of one link from its net.json entry (the rest: the built-in profile).</summary>
    public static LinkProfile Profile(LinkSpec link) => LinkProfile.Default with
    {
        FibreLengthKm = link.DistanceKm,
        FibreLossDbPerKm = link.FibreLossDbPerKm,
        BobInternalLossDb = link.ExtraLossDb,
        DetectorEfficiency = link.Detector.Efficiency,
        // net.json gives dark counts per second; the emulator draws them per pulse slot.
        DarkCountProbabilityPerPulse = Math.Min(1e-3, link.Detector.DarkCountRatePerSecond / Node.Link.LinkSettings.Default.PulseRateHz),
        DeadTimePs = link.Detector.DeadTimePs,
    };

    /// <summary>
    /// The first port from <paramref name="start"/> (in steps of 100) at which every port the network needs is free on
    /// loopback now; nodes bind them a moment later.
    /// </summary>
    /// <exception cref="InvalidOperationException">None below 32000.</exception>
    public static int FindFreePorts(int start, int count)
    {
        for (int basePort = start; basePort + count < 32000; basePort += 100)
        {
            if (basePort + count > 17600 && basePort < 17900) continue; // kept for the acceptance checks' own nodes
            if (Enumerable.Range(basePort, count).All(IsFree)) return basePort;
        }
        throw new InvalidOperationException($"no {count} free ports from {start} below 32000 (--base-port)");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static void WritePrivate(string path, byte[] bytes)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var file = new FileStream(path, options);
        file.Write(bytes);
    }
}

/// <summary>How every QKD link of a network run makes key.</summary>
/// <param name="BlockSizeBits">Sifted bits per privacy-amplification block (small: the first key comes sooner; the finite-key analysis takes more of it).</param>
/// <param name="SessionSeconds">Link time per QKD session (sessions run back to back until the node stops).</param>
/// <param name="AuthenticationReplenishBits">Bits of each block that refill the QKD channel's pad (the rest goes to the pool).</param>
/// <param name="Source">Where link key comes from: <see cref="LinkKeySource.Qkd"/> (each link's emulated QKD link between the two
/// node processes) or <see cref="LinkKeySource.Preshared"/> (random key written into both ends' folders: a stand-in).</param>
public sealed record NetworkLinkSettings(long BlockSizeBits = 1L << 18, double SessionSeconds = 0.5, int AuthenticationReplenishBits = 1 << 14,
    LinkKeySource Source = LinkKeySource.Qkd, int PresharedKeyBytes = 1 << 18);

/// <summary>Where a network run's link key comes from.</summary>
public enum LinkKeySource
{
    /// <summary>Each link's emulated QKD link: the two ends distil key between the two node processes.</summary>
    Qkd,

    /// <summary>Random key (OS CSPRNG) the orchestrator writes into both ends' folders: a stand-in for QKD, not quantum key.</summary>
    Preshared,
}
