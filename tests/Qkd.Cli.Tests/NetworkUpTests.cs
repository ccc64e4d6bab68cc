using System.Text.Json;

namespace Qkd.Cli.Tests;

/// <summary>
/// `qkd network up` as processes: a four-node chain, one `qkd network node` process per node, every link distilling
/// key between its two nodes' processes, keys relayed end to end. No timing assertions: the limits are give-ups only.
/// </summary>
public sealed class NetworkUpTests : IDisposable
{
    private static readonly TimeSpan GiveUp = TimeSpan.FromMinutes(20);
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-network-up-").FullName;

    /// <summary>Four nodes in a chain; SAEs only at the ends, so every relay crosses both trusted nodes in the middle.</summary>
    private const string Chain = """
        {
          "name": "chain4",
          "nodes": [
            { "id": "west", "saes": ["west-sae"] },
            { "id": "relay-1", "saes": [] },
            { "id": "relay-2", "saes": [] },
            { "id": "east", "saes": ["east-sae"] }
          ],
          "links": [
            { "id": "w-r1", "a": "west", "b": "relay-1", "distanceKm": 10, "extraLossDb": 1.0 },
            { "id": "r1-r2", "a": "relay-1", "b": "relay-2", "distanceKm": 10, "extraLossDb": 1.0 },
            { "id": "r2-e", "a": "relay-2", "b": "east", "distanceKm": 10, "extraLossDb": 1.0 }
          ]
        }
        """;

    [Fact]
    public void A_four_node_chain_relays_keys_end_to_end_one_process_per_node()
    {
        string topology = Path.Combine(_dir, "chain4.json");
        File.WriteAllText(topology, Chain);
        string report = Path.Combine(_dir, "net.json");

        using var qkd = QkdProcess.Start(_dir, "network", "up", "--topology", topology, "--duration-s", "15", "--startup-limit-s", "900",
            "--report", report, "--base-port", FreePorts.Block(12).ToString());
        Assert.True(qkd.Process.WaitForExit(GiveUp), $"qkd network up still running after {GiveUp}:\n{qkd.Output}");
        qkd.Process.WaitForExit();

        Assert.True(qkd.Process.ExitCode == 0, $"exit {qkd.Process.ExitCode}:\n{qkd.Output}");
        Assert.Contains("link key source: emulated QKD link per link", qkd.Output); // the default: each link's key is distilled
        using var json = JsonDocument.Parse(File.ReadAllText(report));
        var root = json.RootElement;
        Assert.Equal("relayedKeys", root.EnumerateObject().Skip(1).First().Name); // first after the format: what readers look for
        Assert.True(root.GetProperty("relayedKeys").GetInt64() > 0, qkd.Output);
        Assert.Equal(3, root.GetProperty("maxHops").GetInt32());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("failure").ValueKind);
        foreach (var node in root.GetProperty("nodes").EnumerateArray())
            Assert.Equal(0, node.GetProperty("exitCode").GetInt32());
        foreach (var link in root.GetProperty("links").EnumerateArray())
            Assert.True(link.GetProperty("distilledKeys").GetInt64() > 0, link.GetProperty("id").GetString());
        // What the origins committed arrived: every key relayed west -> east or east -> west is held at the other end
        // (a few more may be: requests cancelled at stop whose abort the destination had not heard before it stopped;
        // their IDs never reached a master SAE, and the origin sends the abort again when it next starts).
        long relayed = root.GetProperty("relayedKeys").GetInt64();
        long held = root.GetProperty("nodes").EnumerateArray().Sum(n => n.GetProperty("result").GetProperty("relay").GetProperty("keysHeldForSlaves").GetInt64());
        Assert.True(held >= relayed, $"{held} keys held for slave SAEs, {relayed} relayed");
        // The middle nodes carried them.
        var relay1 = root.GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("id").GetString() == "relay-1");
        Assert.True(relay1.GetProperty("result").GetProperty("relay").GetProperty("transitsForwarded").GetInt32() > 0);
    }

    [Fact]
    public void A_node_that_cannot_start_stops_the_network_with_one_line()
    {
        string topology = Path.Combine(_dir, "chain4.json");
        File.WriteAllText(topology, Chain);
        string state = Path.Combine(_dir, "state");
        int basePort = FreePorts.Block(12);
        // The folders as `network up` writes them, then one node's QKD link config broken.
        NetworkHost.NetworkPlan.Write(Network.Topology.TopologyFile.Load(topology), topology, state, basePort, new NetworkHost.NetworkLinkSettings(), new NetworkHost.RelayLoadOptions());
        File.WriteAllText(Path.Combine(state, "relay-2", "links", "r1-r2", "qkd.json"), "{ \"role\": \"carol\" }");

        using var qkd = QkdProcess.Start(_dir, "network", "up", "--topology", topology, "--state-dir", state, "--duration-s", "1", "--base-port", basePort.ToString());
        Assert.True(qkd.Process.WaitForExit(GiveUp), qkd.Output);
        qkd.Process.WaitForExit();

        Assert.Equal(2, qkd.Process.ExitCode);
        string line = qkd.Output.Split('\n').Single(l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.Contains("node relay-2 failed to start", line);
        Assert.Contains("qkd.json", line);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
