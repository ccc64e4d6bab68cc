using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Qkd.Kme.Delivery;
using Qkd.Network.Delivery;
using Qkd.Network.Topology;

namespace Qkd.Network.Tests.Fakes;

/// <summary>
/// A <see cref="TestNetwork"/> whose every node serves ETSI GS QKD 014 over its relay: a real
/// <see cref="EtsiKeyDeliveryServer"/> (Kestrel, HTTPS with mutual TLS on loopback, a free port) per node, a test CA
/// issuing the KMEs' server certificates and the SAEs' client certificates (subject CN = SAE ID), and an HTTP client per
/// SAE that presents its certificate and trusts only the test CA.
/// </summary>
public sealed class EtsiNetwork : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-etsi-network-").FullName;
    private readonly X509Certificate2 _ca;
    private readonly Dictionary<string, EtsiKeyDeliveryServer> _servers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HttpClient> _clients = new(StringComparer.Ordinal);
    private readonly List<X509Certificate2> _certificates = [];

    private EtsiNetwork(TestNetwork net)
    {
        Net = net;
        _ca = CertificateIssuer.CreateCa("QKD network test CA", DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    public TestNetwork Net { get; }

    public static async Task<EtsiNetwork> StartAsync(NetworkTopology topology)
    {
        var etsi = new EtsiNetwork(await TestNetwork.StartAsync(topology));
        string caPath = Path.Combine(etsi._dir, "ca.pem");
        await File.WriteAllTextAsync(caPath, etsi._ca.ExportCertificatePem());
        foreach (var node in topology.Nodes)
        {
            using var serverCertificate = CertificateIssuer.Issue(etsi._ca, $"kme-{node.Id}", serverAuth: true, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(7));
            string pfx = Path.Combine(etsi._dir, $"kme-{node.Id}.pfx");
            await File.WriteAllBytesAsync(pfx, serverCertificate.Export(X509ContentType.Pkcs12));
            var given = new KeyDeliveryOptions
            {
                ListenAddress = "127.0.0.1", Port = 0, ServerCertificatePath = pfx, TrustedClientCaPaths = [caPath],
                LocalSaes = node.Saes.Select(s => new SaeIdentity(s, CertificateSubjectCn: s)).ToList(),
                // Filled in from the topology by NetworkKeyDeliveryOptions:
                KmeId = "-", PeerKmeId = "?", PeerSaes = [new SaeIdentity("?")],
            };
            var server = new EtsiKeyDeliveryServer(NetworkKeyDeliveryOptions.For(given, topology, node.Id),
                new RelayKeyDeliverySource(etsi.Net[node.Id], topology));
            etsi._servers[node.Id] = server;
            await server.StartAsync();
            foreach (string sae in node.Saes)
                etsi._clients[sae] = etsi.Client(server.BaseAddress, sae);
        }
        return etsi;
    }

    /// <summary>The HTTP client of <paramref name="sae"/>, pointed at its own node's KME.</summary>
    public HttpClient Sae(string sae) => _clients[sae];

    /// <summary>A client presenting a certificate for <paramref name="commonName"/> to <paramref name="node"/>'s KME.</summary>
    public HttpClient Stranger(string node, string commonName)
    {
        var client = Client(_servers[node].BaseAddress, commonName);
        _clients[$"stranger:{node}:{commonName}:{Guid.NewGuid()}"] = client;
        return client;
    }

    private HttpClient Client(Uri kme, string commonName)
    {
        var certificate = CertificateIssuer.Issue(_ca, commonName, serverAuth: false, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(7));
        _certificates.Add(certificate);
        return new HttpClient(EtsiKeyDeliveryClient.CreateHandler(certificate, _ca)) { BaseAddress = kme, Timeout = TestNetwork.GiveUp };
    }

    /// <summary>GET or POST, the status code and the parsed JSON body.</summary>
    public static async Task<(int Status, JsonElement Body)> CallAsync(HttpClient client, string path, string? jsonBody = null)
    {
        using var response = jsonBody is null
            ? await client.GetAsync(path)
            : await client.PostAsync(path, new StringContent(jsonBody, System.Text.Encoding.UTF8, "application/json"));
        string text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var c in _clients.Values) c.Dispose();
        foreach (var s in _servers.Values) await s.DisposeAsync();
        await Net.DisposeAsync();
        foreach (var c in _certificates) c.Dispose();
        _ca.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
