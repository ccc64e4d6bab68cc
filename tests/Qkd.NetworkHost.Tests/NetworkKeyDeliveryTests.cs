using System.Collections.Concurrent;
using System.IO.Pipelines;
using Qkd.Kme.Delivery;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Qkd.Network.Topology;

namespace Qkd.NetworkHost.Tests;

/// <summary>
/// `qkd network node` serving ETSI GS QKD 014: four node processes' worth of <see cref="NetworkNode"/> in this process
/// (a chain a–b–c–d, pre-shared link keys, real TCP network channels and real Kestrel servers on loopback), planned by
/// <see cref="NetworkPlan"/>; the SAEs use the certificates the plan wrote, as an operator's SAEs would.
/// </summary>
public sealed class NetworkKeyDeliveryTests : IAsyncDisposable
{
    private static readonly TimeSpan GiveUp = TimeSpan.FromSeconds(180);
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-network-etsi-").FullName;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task<NodeResult>> _nodes = [];
    private readonly List<HttpClient> _clients = [];

    private const string Chain = """
        {
          "name": "etsi-chain", "keySizeBits": 256,
          "nodes": [
            { "id": "a", "saes": ["sae-a"] }, { "id": "b", "saes": [] }, { "id": "c", "saes": ["sae-c"] }, { "id": "d", "saes": ["sae-d", "sae2-d"] }
          ],
          "links": [
            { "id": "a-b", "a": "a", "b": "b", "distanceKm": 10, "fibreLossDbPerKm": 0.2, "extraLossDb": 2.0, "detector": { "efficiency": 0.25, "darkCountRatePerSecond": 100, "deadTimePs": 50000 } },
            { "id": "b-c", "a": "b", "b": "c", "distanceKm": 10, "fibreLossDbPerKm": 0.2, "extraLossDb": 2.0, "detector": { "efficiency": 0.25, "darkCountRatePerSecond": 100, "deadTimePs": 50000 } },
            { "id": "c-d", "a": "c", "b": "d", "distanceKm": 10, "fibreLossDbPerKm": 0.2, "extraLossDb": 2.0, "detector": { "efficiency": 0.25, "darkCountRatePerSecond": 100, "deadTimePs": 50000 } }
          ]
        }
        """;

    [Fact]
    public async Task An_SAE_at_one_end_of_a_chain_of_node_processes_shares_a_key_with_SAEs_at_the_other_end_over_HTTPS()
    {
        string topologyPath = Path.Combine(_dir, "net.json");
        await File.WriteAllTextAsync(topologyPath, Chain, TestContext.Current.CancellationToken);
        var topology = TopologyFile.Load(topologyPath);
        int basePort = NetworkPlan.FindFreePorts(24000, NetworkPlan.PortCount(topology));
        var configs = NetworkPlan.Write(topology, topologyPath, Path.Combine(_dir, "run"), basePort,
            new NetworkLinkSettings(Source: LinkKeySource.Preshared), new RelayLoadOptions());
        var ready = new Dictionary<string, ReadyWriter>(); // in node order, as _nodes
        foreach (var n in topology.Nodes)
        {
            var output = ready[n.Id] = new ReadyWriter();
            var config = NetworkNodeConfig.FromFile(configs[n.Id]);
            var control = new StreamReader(new Pipe().Reader.AsStream()); // never says anything: the token stops the node
            _nodes.Add(Task.Run(() => NetworkNode.RunAsync(config, NullLoggerFactory.Instance, control, output, _stop.Token)));
        }
        foreach (var (writer, node) in ready.Values.Zip(_nodes))
        {
            // A node that cannot start throws (the message names the file or field): show that, not a timeout.
            await Task.WhenAny(writer.Ready.Task, node).WaitAsync(GiveUp, TestContext.Current.CancellationToken);
            if (node.IsCompleted) await node;
        }
        var b = NetworkNodeConfig.FromFile(configs["b"]);
        Assert.Null(b.KeyDelivery); // a node without SAEs serves no ETSI API
        var saeA = Client(configs["a"], "sae-a");
        var saeC = Client(configs["c"], "sae-c");
        var saeD = Client(configs["d"], "sae-d");
        var sae2D = Client(configs["d"], "sae2-d");

        // Routing learns the chain once the network channels are up: wait for status to show a route with key.
        var deadline = DateTime.UtcNow + GiveUp;
        while ((await CallAsync(saeA, "api/v1/keys/sae-d/status")).Body.GetProperty("stored_key_count").GetInt64() == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "no route from a to d within the give-up limit");
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }

        var (status, enc) = await CallAsync(saeA, "api/v1/keys/sae-d/enc_keys", """{"number": 2, "additional_slave_SAE_IDs": ["sae-c"]}""");
        Assert.Equal(200, status);
        var ids = enc.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("key_ID").GetString()).ToArray();
        var keys = enc.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("key").GetString()).ToArray();
        string query = string.Join("&", ids.Select(id => $"key_ID={id}"));
        foreach (var slave in new[] { saeD, saeC })
        {
            var (decStatus, dec) = await CallAsync(slave, $"api/v1/keys/sae-a/dec_keys?{query}");
            Assert.Equal(200, decStatus);
            Assert.Equal(keys, dec.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("key").GetString()).ToArray());
            Assert.Equal(400, (await CallAsync(slave, $"api/v1/keys/sae-a/dec_keys?{query}")).Status);
        }
        // sae2-d was not named: the keys are not its.
        Assert.Equal(400, (await CallAsync(sae2D, $"api/v1/keys/sae-a/dec_keys?{query}")).Status);
        var (unknown, error) = await CallAsync(saeA, "api/v1/keys/nobody/enc_keys");
        Assert.Equal(400, unknown);
        Assert.Contains("'nobody'", error.GetProperty("message").GetString());

        await _stop.CancelAsync();
        var results = await Task.WhenAll(_nodes).WaitAsync(GiveUp, TestContext.Current.CancellationToken);
        var a = results.Single(r => r.Node == "a");
        Assert.Equal(2, a.RelayedKeys);
        Assert.NotNull(a.KeyDelivery);
        Assert.Equal(0, results.Single(r => r.Node == "d").Relay!.KeysHeldForSlaves);

        // Each node's audit log holds its start, its deliveries (SAE and key IDs, never a key) and its stop, and verifies.
        foreach (var (node, operation, sae) in new[] { ("a", "enc_keys", "sae-a"), ("c", "dec_keys", "sae-c"), ("d", "dec_keys", "sae-d") })
        {
            var config = NetworkNodeConfig.FromFile(configs[node]);
            string log = config.PathOf(config.Audit!.Log);
            using var auditKey = Audit.AuditKey.FromFile(config.PathOf(config.Audit.KeyFile));
            var verification = Audit.AuditVerifier.Verify(log, auditKey);
            Assert.True(verification.Ok, verification.Summary());
            string text = await File.ReadAllTextAsync(log, TestContext.Current.CancellationToken);
            Assert.Contains("\"kind\":\"nodeStarted\"", text);
            Assert.Contains("\"kind\":\"nodeStopped\"", text);
            // (a multicast enc_keys is recorded once per slave SAE)
            string delivery = string.Join('\n', text.Split('\n').Where(l => l.Contains("\"kind\":\"keysDelivered\"", StringComparison.Ordinal)));
            Assert.NotEmpty(delivery);
            Assert.Contains($"\"operation\":\"{operation}\"", delivery);
            Assert.Contains($"\"{sae}\"", delivery);
            Assert.All(ids, id => Assert.Contains(id!, delivery));
            Assert.All(keys, key => Assert.DoesNotContain(key!, text));
        }
        var bConfig = NetworkNodeConfig.FromFile(configs["b"]);
        Assert.DoesNotContain("keysDelivered", await File.ReadAllTextAsync(bConfig.PathOf(bConfig.Audit!.Log), TestContext.Current.CancellationToken));
    }

    private const string Pair = """
        {
          "name": "qkd-pair", "keySizeBits": 256,
          "nodes": [ { "id": "a", "saes": ["sae-a"] }, { "id": "b", "saes": ["sae-b"] } ],
          "links": [
            { "id": "a-b", "a": "a", "b": "b", "distanceKm": 25, "fibreLossDbPerKm": 0.2, "extraLossDb": 2.0, "detector": { "efficiency": 0.25, "darkCountRatePerSecond": 100, "deadTimePs": 50000 } }
          ]
        }
        """;

    /// <summary>
    /// The link keyed by QKD, not a stand-in: the two nodes' link ends run the emulated QKD link between them (Alice's light
    /// over the emulated fibre on loopback, Bob's frame synchronisation against the pilot, distillation), the link's pool
    /// fills from it, and an SAE at a gets a key relayed to the SAE at b with it. Emulating a link is slow on a loaded
    /// machine (a session of 0.5 s of link time takes minutes there): the give-up is generous, nothing is timed.
    /// </summary>
    [Fact]
    public async Task A_link_keyed_by_its_emulated_QKD_link_delivers_a_relayed_key_to_the_SAE_at_the_other_end()
    {
        var qkdGiveUp = TimeSpan.FromSeconds(900);
        var configs = await StartAsync(Pair, new NetworkLinkSettings(Source: LinkKeySource.Qkd));
        var saeA = Client(configs["a"], "sae-a");
        var saeB = Client(configs["b"], "sae-b");

        // The link holds key once its first block is distilled: wait for status to show it.
        var deadline = DateTime.UtcNow + qkdGiveUp;
        while ((await CallAsync(saeA, "api/v1/keys/sae-b/status")).Body.GetProperty("stored_key_count").GetInt64() == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the QKD link between a and b made no key within the give-up limit");
            await Task.Delay(500, TestContext.Current.CancellationToken);
        }
        var (status, enc) = await CallAsync(saeA, "api/v1/keys/sae-b/enc_keys", """{"number": 1}""");
        Assert.Equal(200, status);
        var key = enc.GetProperty("keys")[0];
        var (decStatus, dec) = await CallAsync(saeB, $"api/v1/keys/sae-a/dec_keys?key_ID={key.GetProperty("key_ID").GetString()}");
        Assert.Equal(200, decStatus);
        Assert.Equal(key.GetProperty("key").GetString(), dec.GetProperty("keys")[0].GetProperty("key").GetString());

        await _stop.CancelAsync();
        var results = await Task.WhenAll(_nodes).WaitAsync(qkdGiveUp, TestContext.Current.CancellationToken);
        var a = results.Single(r => r.Node == "a");
        Assert.Equal(1, a.RelayedKeys);
        var link = Assert.Single(a.Links);
        Assert.StartsWith("emulated QKD link", link.KeySource);
        Assert.True(link.DistilledKeys > 0);
    }

    /// <summary>Plans <paramref name="topologyJson"/> and runs each node's <see cref="NetworkNode"/> here until every one is ready.</summary>
    private async Task<IReadOnlyDictionary<string, string>> StartAsync(string topologyJson, NetworkLinkSettings settings)
    {
        string topologyPath = Path.Combine(_dir, "net.json");
        await File.WriteAllTextAsync(topologyPath, topologyJson, TestContext.Current.CancellationToken);
        var topology = TopologyFile.Load(topologyPath);
        int basePort = NetworkPlan.FindFreePorts(24000, NetworkPlan.PortCount(topology));
        var configs = NetworkPlan.Write(topology, topologyPath, Path.Combine(_dir, "run"), basePort, settings, new RelayLoadOptions());
        var ready = new List<ReadyWriter>(); // in node order, as _nodes
        foreach (var n in topology.Nodes)
        {
            var output = new ReadyWriter();
            ready.Add(output);
            var config = NetworkNodeConfig.FromFile(configs[n.Id]);
            var control = new StreamReader(new Pipe().Reader.AsStream()); // never says anything: the token stops the node
            _nodes.Add(Task.Run(() => NetworkNode.RunAsync(config, NullLoggerFactory.Instance, control, output, _stop.Token)));
        }
        foreach (var (writer, node) in ready.Zip(_nodes))
        {
            // A node that cannot start throws (the message names the file or field): show that, not a timeout.
            await Task.WhenAny(writer.Ready.Task, node).WaitAsync(GiveUp, TestContext.Current.CancellationToken);
            if (node.IsCompleted) await node;
        }
        return configs;
    }

    private HttpClient Client(string nodeConfigPath, string sae)
    {
        var config = NetworkNodeConfig.FromFile(nodeConfigPath);
        string saes = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(nodeConfigPath))!, NetworkPlan.SaeFolder);
        var certificate = X509Certificate2.CreateFromPemFile(Path.Combine(saes, $"{sae}.crt"), Path.Combine(saes, $"{sae}.key"));
        var ca = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(saes, "ca.pem"));
        var client = new HttpClient(EtsiKeyDeliveryClient.CreateHandler(certificate, ca)) { BaseAddress = new Uri($"https://{config.KeyDelivery!.ListenAddress}:{config.KeyDelivery.Port}/"), Timeout = GiveUp };
        _clients.Add(client);
        return client;
    }

    private static async Task<(int Status, JsonElement Body)> CallAsync(HttpClient client, string path, string? jsonBody = null)
    {
        using var response = jsonBody is null
            ? await client.GetAsync(path)
            : await client.PostAsync(path, new StringContent(jsonBody, Encoding.UTF8, "application/json"));
        string text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var c in _clients) c.Dispose();
        try { await Task.WhenAll(_nodes).WaitAsync(GiveUp); } catch (Exception) { /* the test already failed; nodes stop with the token */ }
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>A node's standard output: signals its ready line.</summary>
    private sealed class ReadyWriter : TextWriter
    {
        private readonly StringBuilder _line = new();
        public TaskCompletionSource Ready { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public ConcurrentQueue<string> Lines { get; } = new();
        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value)
        {
            lock (_line)
            {
                if (value != '\n') { _line.Append(value); return; }
                string line = _line.ToString().TrimEnd('\r');
                _line.Clear();
                Lines.Enqueue(line);
                if (line == $"{NetworkNode.Marker} ready") Ready.TrySetResult();
            }
        }

        public override Task WriteLineAsync(string? value)
        {
            foreach (char c in (value ?? "") + "\n") Write(c);
            return Task.CompletedTask;
        }

        public override Task FlushAsync() => Task.CompletedTask;
    }
}
