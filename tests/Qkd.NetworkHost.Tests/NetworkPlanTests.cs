using System.Security.Cryptography;
using Qkd.Network.Topology;
using Qkd.Node.Service;

namespace Qkd.NetworkHost.Tests;

/// <summary>The run's folders: what each node holds, and that the two ends of every link agree.</summary>
public sealed class NetworkPlanTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-network-plan-").FullName;
    private static string TopologyPath => Path.Combine(AppContext.BaseDirectory, "topologies", "backbone-branch.json");

    [Fact]
    public void Every_node_gets_its_own_folder_with_one_link_per_neighbour()
    {
        var topology = TopologyFile.Load(TopologyPath);
        var configs = NetworkPlan.Write(topology, TopologyPath, _dir, 21000, new NetworkLinkSettings(), new RelayLoadOptions());

        Assert.Equal(topology.Nodes.Select(n => n.Id).Order(), configs.Keys.Order());
        foreach (var n in topology.Nodes)
        {
            var config = NetworkNodeConfig.FromFile(configs[n.Id]);
            Assert.Equal(n.Id, config.NodeId);
            Assert.Equal(topology.LinksOf(n.Id).Select(l => l.Other(n.Id)).Order(), config.Links.Select(l => l.Neighbour).Order());
            Assert.True(File.Exists(config.PathOf(config.OperatorKeyFile)));
            Assert.StartsWith(Path.Combine(_dir, n.Id), config.PathOf(config.Links[0].QkdConfig));
        }
    }

    [Fact]
    public void The_two_ends_of_a_link_hold_the_same_secrets_opposite_roles_and_the_same_endpoints()
    {
        var topology = TopologyFile.Load(TopologyPath);
        var configs = NetworkPlan.Write(topology, TopologyPath, _dir, 21000, new NetworkLinkSettings(), new RelayLoadOptions());

        var ports = new HashSet<string>();
        foreach (var link in topology.Links)
        {
            var a = NetworkNodeConfig.FromFile(configs[link.A]);
            var b = NetworkNodeConfig.FromFile(configs[link.B]);
            var atA = a.Links.Single(l => l.Neighbour == link.B);
            var atB = b.Links.Single(l => l.Neighbour == link.A);
            Assert.Equal(("alice", "bob"), (atA.Role, atB.Role));
            Assert.Equal(atA.RelayEndpoint, atB.RelayEndpoint);
            Assert.Equal(Hash(a.PathOf(atA.RelaySecretFile)), Hash(b.PathOf(atB.RelaySecretFile)));
            var qkdA = NodeConfig.Load(a.PathOf(atA.QkdConfig));
            var qkdB = NodeConfig.Load(b.PathOf(atB.QkdConfig));
            Assert.Equal(link.Id, qkdA.LinkId);
            Assert.Equal(link.Id, qkdB.LinkId);
            Assert.Equal(qkdA.ClassicalChannel.Endpoint, qkdB.ClassicalChannel.Endpoint);
            Assert.Equal(qkdA.Emulator!.Fibre, qkdB.Emulator!.Fibre);
            Assert.Equal(Hash(qkdA.PathOf(qkdA.ClassicalChannel.PreSharedSecretFile)), Hash(qkdB.PathOf(qkdB.ClassicalChannel.PreSharedSecretFile)));
            Assert.NotEqual(Hash(qkdA.PathOf(qkdA.ClassicalChannel.PreSharedSecretFile)), Hash(a.PathOf(atA.RelaySecretFile)));
            // The link's own physics from net.json.
            Assert.Equal(link.DistanceKm, qkdA.LinkProfile().FibreLengthKm);
            Assert.Equal(link.Detector.Efficiency, qkdB.LinkProfile().DetectorEfficiency);
            Assert.Null(qkdA.InsecureFixedSeed);
            foreach (string endpoint in new[] { atA.RelayEndpoint, qkdA.ClassicalChannel.Endpoint, qkdA.ClassicalChannel.KmeLinkEndpoint!, qkdA.Emulator.Fibre })
                Assert.True(ports.Add(endpoint), $"{endpoint} used twice");
        }
    }

    [Fact]
    public void Every_node_with_SAEs_serves_ETSI_014_on_its_own_port_and_every_SAE_gets_a_certificate()
    {
        var topology = TopologyFile.Load(TopologyPath);
        var configs = NetworkPlan.Write(topology, TopologyPath, _dir, 21000, new NetworkLinkSettings(), new RelayLoadOptions());

        var ports = new HashSet<int>();
        foreach (var n in topology.Nodes)
        {
            var delivery = NetworkNodeConfig.FromFile(configs[n.Id]).KeyDelivery;
            if (n.Saes.Count == 0)
            {
                Assert.Null(delivery);
                continue;
            }
            Assert.NotNull(delivery);
            Assert.Equal(n.Saes, delivery.LocalSaes.Select(s => s.SaeId));
            Assert.Equal(n.Saes, delivery.LocalSaes.Select(s => s.CertificateSubjectCn));
            Assert.Equal(128, delivery.MaxKeyPerRequest); // the declared default, kept although the file is read back
            Assert.True(ports.Add(delivery.Port));
            Assert.InRange(delivery.Port, 21000 + topology.Links.Count * NetworkPlan.PortsPerLink, 21000 + NetworkPlan.PortCount(topology) - 1);
            Assert.True(File.Exists(Path.Combine(_dir, n.Id, delivery.ServerCertificatePath)));
            foreach (string sae in n.Saes)
            {
                string key = Path.Combine(_dir, NetworkPlan.SaeFolder, $"{sae}.key");
                using var certificate = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(
                    Path.Combine(_dir, NetworkPlan.SaeFolder, $"{sae}.crt"), key);
                Assert.Equal(sae, certificate.GetNameInfo(System.Security.Cryptography.X509Certificates.X509NameType.SimpleName, false));
                if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
            }
        }
    }

    [Fact]
    public void A_folder_is_reused_whole_and_refused_when_half_there()
    {
        var topology = TopologyFile.Load(TopologyPath);
        var first = NetworkPlan.WriteOrReuse(topology, TopologyPath, _dir, 21000, new NetworkLinkSettings(), new RelayLoadOptions());
        string secret = Hash(Path.Combine(_dir, "beijing", "operator.key"));

        var again = NetworkPlan.WriteOrReuse(topology, TopologyPath, _dir, 22000, new NetworkLinkSettings(), new RelayLoadOptions());

        Assert.Equal(first, again);
        Assert.Equal(secret, Hash(Path.Combine(_dir, "beijing", "operator.key")));
        File.Delete(first["wuhan"]);
        var e = Assert.Throws<InvalidDataException>(() => NetworkPlan.WriteOrReuse(topology, TopologyPath, _dir, 21000, new NetworkLinkSettings(), new RelayLoadOptions()));
        Assert.Contains("not all", e.Message);
    }

    [Fact]
    public void Ports_avoid_the_acceptance_range_and_stay_below_32000()
    {
        int port = NetworkPlan.FindFreePorts(17500, 400);
        Assert.True(port + 400 <= 17600 || port >= 17900, $"{port}");
        Assert.Throws<InvalidOperationException>(() => NetworkPlan.FindFreePorts(31950, 100));
    }

    [Fact]
    public void A_bad_node_config_is_refused_naming_the_field()
    {
        string path = Path.Combine(_dir, "bad.json");
        File.WriteAllText(path, """
            { "topology": "net.json", "nodeId": "x", "operatorKeyFile": "k", "relayedKeyLifetimeSeconds": 10,
              "links": [ { "neighbour": "y", "role": "carol", "relayEndpoint": "nowhere", "relaySecretFile": "s", "relayStateDirectory": "d", "qkdConfig": "q.json" } ],
              "load": { "keysPerRequest": 0 } }
            """);

        var e = Assert.Throws<InvalidDataException>(() => NetworkNodeConfig.FromFile(path));

        Assert.Contains("links[0].role", e.Message);
        Assert.Contains("links[0].relayEndpoint", e.Message);
        Assert.Contains("load.keysPerRequest", e.Message);
        Assert.Contains("relayedKeyLifetimeSeconds 10", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void The_load_goes_to_non_neighbours_with_saes()
    {
        var topology = TopologyFile.Load(TopologyPath);
        var options = new RelayLoadOptions();

        Assert.Equal(["hefei", "shanghai", "wuhan"], RelayLoad.Destinations(topology, "beijing", options).Select(n => n.Id).Order());
        Assert.Equal(["shanghai", "wuhan"], RelayLoad.Destinations(topology, "jinan", options).Select(n => n.Id).Order());
        Assert.Equal(["beijing"], RelayLoad.Destinations(topology, "hefei", options).Select(n => n.Id));
        // Neighbours too when asked; a node with no SAE (jinan) is never a destination.
        Assert.Equal(["beijing", "shanghai", "wuhan"], RelayLoad.Destinations(topology, "hefei", options with { IncludeNeighbours = true }).Select(n => n.Id).Order());
    }

    private static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
