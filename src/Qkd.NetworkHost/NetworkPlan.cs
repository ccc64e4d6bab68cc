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
/// and channel state, and the network channel's secret. Each node with SAEs also serves ETSI GS QKD 014 on loopback
/// (<c>kme.pfx</c>, <c>sae-ca.pem</c>), and <c>saes/</c> holds what the SAEs present (<c>&lt;sae&gt;.crt</c>,
/// <c>&lt;sae&gt;.key</c>) and trust (<c>ca.pem</c>): certificates of a private CA made for the run, whose key is not kept.
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

    /// <summary>The ports a network takes from its base: <see cref="PortsPerLink"/> per link, then one per node (its ETSI 014 server).</summary>
    public static int PortCount(NetworkTopology topology) => topology.Links.Count * PortsPerLink + topology.Nodes.Count;

    /// <summary>The folder of the SAEs' certificates and keys in a run's folder.</summary>
    public const string SaeFolder = "saes";

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
            Audit.AuditKey.WriteNewKeyFile(Path.Combine(directory, n.Id, "audit.key"));
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
        var keyDelivery = WriteCertificates(topology, directory, basePort + topology.Links.Count * PortsPerLink);
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
                KeyDelivery = keyDelivery.GetValueOrDefault(n.Id),
                Audit = new Audit.AuditLogOptions("audit.jsonl", "audit.key"),
            };
            string path = paths[n.Id] = Path.Combine(directory, n.Id, NodeConfigFile);
            File.WriteAllText(path, JsonSerializer.Serialize(config, NetworkHostJson.Default.NetworkNodeConfig));
        }
        return paths;
    }

    /// <summary>
    /// A private CA for the run (its key is dropped once everything is issued): per node with SAEs a server certificate
    /// for loopback (<c>kme.pfx</c>) and the CA its SAEs' certificates chain to (<c>sae-ca.pem</c>); per SAE a client
    /// certificate whose subject CN is the SAE ID and its key (<c>saes/&lt;sae&gt;.crt</c>, <c>.key</c>, mode 0600).
    /// Returns each such node's key delivery settings (loopback, one port per node from <paramref name="firstPort"/>).
    /// </summary>
    private static Dictionary<string, Kme.Delivery.KeyDeliveryOptions> WriteCertificates(NetworkTopology topology, string directory, int firstPort)
    {
        var result = new Dictionary<string, Kme.Delivery.KeyDeliveryOptions>(StringComparer.Ordinal);
        if (topology.Nodes.All(n => n.Saes.Count == 0)) return result;
        DateTimeOffset from = DateTimeOffset.UtcNow.AddHours(-1), until = DateTimeOffset.UtcNow.AddYears(1);
        using var ca = Kme.Delivery.CertificateIssuer.CreateCa($"QKD network {topology.Name} CA", from, until.AddDays(1));
        string saes = Path.Combine(directory, SaeFolder);
        Directory.CreateDirectory(saes);
        File.WriteAllText(Path.Combine(saes, "ca.pem"), ca.ExportCertificatePem());
        for (int i = 0; i < topology.Nodes.Count; i++)
        {
            var node = topology.Nodes[i];
            // A node serves SAEs only if it has some and some other node has SAEs to share keys with.
            if (node.Saes.Count == 0 || topology.Nodes.All(n => n.Id == node.Id || n.Saes.Count == 0)) continue;
            using (var server = Kme.Delivery.CertificateIssuer.Issue(ca, $"kme-{node.Id}", serverAuth: true, from, until))
                WritePrivate(Path.Combine(directory, node.Id, "kme.pfx"), server.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pkcs12));
            File.WriteAllText(Path.Combine(directory, node.Id, "sae-ca.pem"), ca.ExportCertificatePem());
            foreach (string sae in node.Saes)
            {
                using var client = Kme.Delivery.CertificateIssuer.Issue(ca, sae, serverAuth: false, from, until);
                File.WriteAllText(Path.Combine(saes, $"{sae}.crt"), client.ExportCertificatePem());
                using var key = System.Security.Cryptography.X509Certificates.ECDsaCertificateExtensions.GetECDsaPrivateKey(client)!;
                WritePrivate(Path.Combine(saes, $"{sae}.key"), System.Text.Encoding.ASCII.GetBytes(key.ExportPkcs8PrivateKeyPem()));
            }
            result[node.Id] = new Kme.Delivery.KeyDeliveryOptions
            {
                ListenAddress = "127.0.0.1",
                Port = firstPort + i,
                ServerCertificatePath = "kme.pfx",
                TrustedClientCaPaths = ["sae-ca.pem"],
                KmeId = node.Id,
                LocalSaes = node.Saes.Select(s => new Kme.Delivery.SaeIdentity(s, CertificateSubjectCn: s)).ToList(),
            };
        }
        return result;
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
