using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Qkd.Kme.Delivery;
using Qkd.Kme.Pool;
using Qkd.Network.Topology;
using Qkd.NetworkHost;

namespace Qkd.Cli.Tests;

/// <summary>
/// Issue 16's crash test: a chain a–b–c, one `qkd network node` process per node (as `qkd network up` plans and starts
/// them), SAEs at both ends relaying keys through b over ETSI GS QKD 014 in both directions; b is killed with SIGKILL in
/// the middle of it and started again on its own folder. Afterwards every key an enc_keys answered with is redeemed
/// once at the other end with the same bytes (a second dec_keys gets 400), the relays that did not complete left nothing
/// deliverable anywhere (every node's store ends empty once the redeemed keys are taken and the aborts arrived), and
/// relays go through b again. Link key is the pre-shared stand-in (`--link-keys preshared`): this tests the relay, not
/// distillation. Every wait is on a condition with a give-up limit; nothing is timed.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class NetworkNodeKillTests : IDisposable
{
    private static readonly TimeSpan GiveUp = TimeSpan.FromSeconds(300);
    private const string StatusPrefix = NetworkNode.Marker + " status ";
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-network-kill-").FullName;
    private readonly List<QkdProcess> _processes = [];
    private readonly List<EtsiKeyDeliveryClient> _clients = [];

    private const string Chain = """
        {
          "name": "chain3", "keySizeBits": 256,
          "nodes": [ { "id": "a", "saes": ["sae-a"] }, { "id": "b", "saes": [] }, { "id": "c", "saes": ["sae-c"] } ],
          "links": [
            { "id": "a-b", "a": "a", "b": "b", "distanceKm": 10, "extraLossDb": 1.0 },
            { "id": "b-c", "a": "b", "b": "c", "distanceKm": 10, "extraLossDb": 1.0 }
          ]
        }
        """;

    /// <summary>A key an enc_keys answered with: who asked, for whom, and whether b had been killed by then.</summary>
    private sealed record Handed(string Master, string Slave, DeliveredKey Key, bool AfterRestart);

    [Fact(Timeout = 1_200_000)]
    public async Task The_middle_node_killed_mid_relay_and_restarted_loses_and_duplicates_no_key_and_relays_resume()
    {
        var ct = TestContext.Current.CancellationToken;
        string topologyPath = Path.Combine(_dir, "chain3.json");
        await File.WriteAllTextAsync(topologyPath, Chain, ct);
        var topology = TopologyFile.Load(topologyPath);
        var configs = NetworkPlan.Write(topology, topologyPath, Path.Combine(_dir, "state"), FreePorts.Block(NetworkPlan.PortCount(topology)),
            new NetworkLinkSettings(Source: LinkKeySource.Preshared), new RelayLoadOptions());
        var nodes = new Dictionary<string, QkdProcess>();
        foreach (string id in new[] { "b", "a", "c" }) nodes[id] = Start(configs[id]);
        foreach (var node in nodes.Values) node.WaitFor(NetworkNode.Marker + " ready", GiveUp);

        var saes = new Dictionary<string, (EtsiKeyDeliveryClient Client, string Node)>
        {
            ["sae-a"] = (Client(configs["a"], "sae-a"), "a"),
            ["sae-c"] = (Client(configs["c"], "sae-c"), "c"),
        };
        var handed = new List<Handed>();
        long failures = 0;
        bool restarted = false;
        bool stopLoad = false;
        // Two SAE loops each way: enc_keys over and over, whatever b's state; what they get is kept and redeemed at the end.
        // They stop between requests, never cancelling one: an SAE that hangs up on enc_keys may miss keys its KME committed
        // (the slave could still redeem them), which is not what this test is about.
        var load = new[] { ("sae-a", "sae-c"), ("sae-c", "sae-a"), ("sae-a", "sae-c"), ("sae-c", "sae-a") }.Select(flow => Task.Run(async () =>
        {
            var (master, slave) = flow;
            while (!Volatile.Read(ref stopLoad))
            {
                bool after = Volatile.Read(ref restarted);
                try
                {
                    var keys = await saes[master].Client.GetKeysAsync(slave, 1 + Random.Shared.Next(3), ct);
                    lock (handed) handed.AddRange(keys.Select(k => new Handed(master, slave, k, after)));
                }
                catch (Exception e) when (e is KeyDeliveryException { StatusCode: 503 } or HttpRequestException or TaskCanceledException)
                {
                    // 503 while no route has key (routing not converged, b down) or the relay was rolled back: expected.
                    Interlocked.Increment(ref failures);
                    await Task.Delay(50, ct); // pacing, not synchronisation
                }
            }
        }, CancellationToken.None)).ToList();
        int HandedCount(bool afterRestart) { lock (handed) return handed.Count(h => h.AfterRestart == afterRestart); }

        await Until(() => HandedCount(false) >= 20, "20 keys relayed through b before the kill", load);
        // b reports its counters in a status line every 2 s, so the relays just seen may not be in its last one yet: wait
        // for a status line that counts them (the keys above could only have crossed b).
        nodes["b"].WaitUntil(_ => (LastStatus(nodes["b"])?.Relay?.TransitsForwarded ?? 0) > 0, "b's status counting the relays it forwarded", GiveUp);

        var b = nodes["b"];
        b.Process.Kill(); // SIGKILL, while the loops have relays in flight through b
        Assert.True(b.Process.WaitForExit(GiveUp), "b did not die");
        // While b is down: a's and c's link to it is down (their next status says so).
        nodes["a"].WaitUntil(_ => LastStatus(nodes["a"])?.Links.Single().NeighbourLinkUp == false, "a seeing b down", GiveUp);

        Volatile.Write(ref restarted, true);
        var clock = Stopwatch.StartNew();
        nodes["b"] = Start(configs["b"]);
        nodes["b"].WaitFor(NetworkNode.Marker + " ready", GiveUp);
        nodes["b"].WaitUntil(_ => LastStatus(nodes["b"]) is { } s && s.Links.All(l => l.NeighbourLinkUp), "both of b's links up again", GiveUp);
        double linksBackSeconds = clock.Elapsed.TotalSeconds; // a figure for the report, not asserted

        await Until(() => HandedCount(true) >= 20, "20 keys relayed through the restarted b", load);
        double resumedSeconds = clock.Elapsed.TotalSeconds;
        Volatile.Write(ref stopLoad, true);
        await Task.WhenAll(load).WaitAsync(GiveUp, ct);

        // Every key handed out is redeemable exactly once at the other end, with the same bytes.
        var byFlow = handed.GroupBy(h => (h.Master, h.Slave));
        foreach (var flow in byFlow)
        {
            var slave = saes[flow.Key.Slave].Client;
            foreach (var batch in flow.Chunk(16))
            {
                var ids = batch.Select(h => h.Key.Id).ToArray();
                var got = await slave.GetKeysWithIdsAsync(flow.Key.Master, ids, ct);
                Assert.Equal(batch.Select(h => Convert.ToHexString(h.Key.Key)), got.Select(k => Convert.ToHexString(k.Key)));
                foreach (var id in ids)
                {
                    var again = await Assert.ThrowsAsync<KeyDeliveryException>(() => slave.GetKeysWithIdsAsync(flow.Key.Master, [id], ct));
                    Assert.Equal(400, again.StatusCode);
                }
            }
        }
        Assert.Equal(handed.Count, handed.Select(h => h.Key.Id).Distinct().Count()); // no key ID handed out twice

        // Nothing else is deliverable: the relays that were not handed out (in flight through b when it died, or refused
        // while it was down) were rolled back at every node they reached, and every origin finished its legs.
        foreach (var (id, node) in nodes)
            node.WaitUntil(_ => LastStatus(node)?.Relay is { KeysHeldForSlaves: 0, LegsInFlight: 0 }, $"{id}'s relay store empty and no leg in flight", GiveUp);
        // The restarted b's own count (a status line every 2 s, so wait for one that has the relays through it).
        nodes["b"].WaitUntil(_ => (LastStatus(nodes["b"])?.Relay?.TransitsForwarded ?? 0) > 0, "the restarted b counting relays it forwarded", GiveUp);

        foreach (var node in nodes.Values) node.Terminate();
        foreach (var (id, node) in nodes)
        {
            Assert.True(node.Process.WaitForExit(GiveUp), $"{id} did not stop");
            node.Process.WaitForExit();
            Assert.True(node.Process.ExitCode == 0, $"{id} exited {node.Process.ExitCode}:\n{node.Output}");
        }
        // b's audit log survived the kill: it verifies, with two starts and the one stop at the end.
        var bConfig = NetworkNodeConfig.FromFile(configs["b"]);
        using (var auditKey = Audit.AuditKey.FromFile(bConfig.PathOf(bConfig.Audit!.KeyFile)))
        {
            var verification = Audit.AuditVerifier.Verify(bConfig.PathOf(bConfig.Audit.Log), auditKey);
            Assert.True(verification.Ok, verification.Summary());
        }
        string bAudit = await File.ReadAllTextAsync(bConfig.PathOf(bConfig.Audit.Log), ct);
        Assert.Equal(2, bAudit.Split("\"kind\":\"nodeStarted\"").Length - 1);
        Assert.Equal(1, bAudit.Split("\"kind\":\"nodeStopped\"").Length - 1);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"keys handed out: {HandedCount(false)} before the kill, {HandedCount(true)} after; enc_keys refused or failed: {failures}; " +
            $"b's links back {linksBackSeconds:F1} s after its restart began, 20 keys through it {resumedSeconds:F1} s after");
    }

    private QkdProcess Start(string config)
    {
        var node = QkdProcess.StartWithInput(Path.GetDirectoryName(config)!, "network", "node", "--config", config);
        _processes.Add(node);
        return node;
    }

    /// <summary>The node's last status line (<see cref="NodeResult"/>), null before its first.</summary>
    private static NodeResult? LastStatus(QkdProcess node)
    {
        string output = node.Output;
        int at = output.LastIndexOf(StatusPrefix, StringComparison.Ordinal);
        if (at < 0) return null;
        int end = output.IndexOf('\n', at);
        if (end < 0) return null; // the line is still being written
        return JsonSerializer.Deserialize(output.AsSpan(at + StatusPrefix.Length, end - at - StatusPrefix.Length).TrimEnd('\r'), NetworkHostJson.Default.NodeResult);
    }

    /// <summary>Waits for <paramref name="condition"/>; a load loop that failed is shown rather than a timeout.</summary>
    private static async Task Until(Func<bool> condition, string what, IReadOnlyList<Task> load)
    {
        var deadline = DateTime.UtcNow + GiveUp;
        while (!condition())
        {
            if (load.FirstOrDefault(t => t.IsFaulted) is { } failed) await failed;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"gave up after {GiveUp.TotalSeconds} s waiting for {what}");
            await Task.Delay(100, TestContext.Current.CancellationToken); // polling a condition, not a timed wait
        }
    }

    private EtsiKeyDeliveryClient Client(string nodeConfigPath, string sae)
    {
        var config = NetworkNodeConfig.FromFile(nodeConfigPath);
        string saes = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(nodeConfigPath))!, NetworkPlan.SaeFolder);
        var certificate = X509Certificate2.CreateFromPemFile(Path.Combine(saes, $"{sae}.crt"), Path.Combine(saes, $"{sae}.key"));
        var ca = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(saes, "ca.pem"));
        var client = new EtsiKeyDeliveryClient(new Uri($"https://{config.KeyDelivery!.ListenAddress}:{config.KeyDelivery.Port}/"), certificate, ca);
        _clients.Add(client);
        return client;
    }

    public void Dispose()
    {
        foreach (var c in _clients) c.Dispose();
        foreach (var p in _processes) p.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
