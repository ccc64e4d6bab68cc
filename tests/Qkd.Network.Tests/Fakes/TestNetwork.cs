using Microsoft.Extensions.Time.Testing;
using Qkd.Kme.Pool;
using Qkd.Network.Relay;
using Qkd.Network.Topology;

namespace Qkd.Network.Tests.Fakes;

/// <summary>
/// Several relay nodes in one process, each with its own SQLite state in a temporary folder, joined by in-memory
/// neighbour links and link keys; real message encoding on every hop. Time is a fake clock the tests move (relay
/// timeouts); nothing waits on wall-clock time except the generous give-up of <see cref="Until"/>.
/// </summary>
public sealed class TestNetwork : IAsyncDisposable
{
    public static readonly TimeSpan GiveUp = TimeSpan.FromSeconds(120);
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-network-").FullName;
    private readonly Dictionary<string, OperatorKey> _operatorKeys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RelayNode> _nodes = new(StringComparer.Ordinal);

    private TestNetwork(NetworkTopology topology, long keyBytesPerDirection)
    {
        Topology = topology;
        foreach (var l in topology.Links)
        {
            Wires[l.Id] = new InMemoryWire(l.A, l.B);
            var keys = new InMemoryLinkKeys(l.A, l.B);
            keys.Add(l.A, keyBytesPerDirection);
            keys.Add(l.B, keyBytesPerDirection);
            Keys[l.Id] = keys;
        }
    }

    public NetworkTopology Topology { get; }
    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 12, 7, 9, 0, 0, TimeSpan.Zero));
    public Dictionary<string, InMemoryWire> Wires { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, InMemoryLinkKeys> Keys { get; } = new(StringComparer.Ordinal);

    public RelayNode this[string node] => _nodes[node];

    public IEnumerable<RelayNode> Nodes => _nodes.Values;

    public static NetworkTopology Chain(params string[] nodes) => Build("chain", nodes, ring: false);

    public static NetworkTopology Ring(params string[] nodes) => Build("ring", nodes, ring: true);

    /// <summary>Nodes with SAEs sae-{node} and sae2-{node}; links {a}-{b} along the list (and back to the start for a ring), plus any extra pairs.</summary>
    public static NetworkTopology Build(string name, string[] nodes, bool ring, params (string A, string B)[] extra)
    {
        var pairs = nodes.Zip(nodes.Skip(1)).ToList();
        if (ring) pairs.Add((nodes[^1], nodes[0]));
        pairs.AddRange(extra);
        return new NetworkTopology
        {
            Name = name,
            Nodes = nodes.Select(n => new NodeSpec { Id = n, Saes = [$"sae-{n}", $"sae2-{n}"] }).ToList(),
            Links = pairs.Select(p => new LinkSpec { Id = $"{p.Item1}-{p.Item2}", A = p.Item1, B = p.Item2, DistanceKm = 10 }).ToList(),
        };
    }

    public static async Task<TestNetwork> StartAsync(NetworkTopology topology, long keyBytesPerDirection = 1 << 20)
    {
        TopologyFile.Validate(topology);
        var net = new TestNetwork(topology, keyBytesPerDirection);
        foreach (var n in topology.Nodes) net._operatorKeys[n.Id] = OperatorKey.Generate();
        foreach (var n in topology.Nodes) net._nodes[n.Id] = net.Create(n.Id);
        foreach (var node in net._nodes.Values) await node.StartAsync();
        await net.ConvergeAsync();
        return net;
    }

    public InMemoryWire Wire(string a, string b) => Wires.Values.Single(w => (w.NodeA == a && w.NodeB == b) || (w.NodeA == b && w.NodeB == a));

    public InMemoryLinkKeys LinkKeys(string a, string b) => Keys.Values.Single(k => (k.NodeA == a && k.NodeB == b) || (k.NodeA == b && k.NodeB == a));

    /// <summary>Every node advertises; returns once every node holds every other node's latest advertisement.</summary>
    public async Task ConvergeAsync()
    {
        foreach (var node in _nodes.Values) await node.AdvertiseAsync();
        await Until(() => _nodes.Values.All(x => _nodes.Values.All(y => x == y || x.LinkState.SequenceOf(y.NodeId) >= y.AdvertisedSequence)),
            "every node to hear every other node's latest advertisement");
    }

    /// <summary>Drops the node as a kill would (its links go down, nothing more is written); its files stay.</summary>
    public async Task CrashAsync(string node)
    {
        foreach (var w in Wires.Values.Where(w => w.NodeA == node || w.NodeB == node)) w.Cut();
        await _nodes[node].CrashAsync();
    }

    /// <summary>A new node object on the crashed node's files, started, its links restored.</summary>
    public async Task RestartAsync(string node, bool converge = true)
    {
        var fresh = Create(node);
        _nodes[node] = fresh;
        await fresh.StartAsync();
        foreach (var w in Wires.Values.Where(w => w.NodeA == node || w.NodeB == node)) w.Restore();
        if (converge) await ConvergeAsync();
    }

    public static async Task Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + GiveUp;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Gave up after {GiveUp.TotalSeconds} s waiting for {what}");
            await Task.Delay(5);
        }
    }

    private RelayNode Create(string node)
    {
        var relay = new RelayNode(new RelayNodeOptions
        {
            NodeId = node, Topology = Topology, DatabasePath = Path.Combine(_dir, $"{node}.relay.db"), OperatorKey = _operatorKeys[node],
            TimeProvider = Time, SweepInterval = null,
        });
        foreach (var l in Topology.LinksOf(node))
            relay.AddLink(Wires[l.Id].EndOf(node), Keys[l.Id].EndOf(node));
        return relay;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var n in _nodes.Values) await n.DisposeAsync();
        foreach (var k in _operatorKeys.Values) k.Dispose();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
