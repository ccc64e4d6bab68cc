using System.Security.Cryptography;
using Qkd.ClassicalChannel;
using Qkd.Core.Bits;
using Qkd.Kme.PeerLink;
using Qkd.Kme.Pool;
using Qkd.Network.Links;
using Qkd.Network.Relay;
using Qkd.Network.Tests.Fakes;

namespace Qkd.Network.Tests;

/// <summary>The production seams: link key from two real KME pools (SQLite), messages over a classical channel.</summary>
public sealed class ProductionSeamTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-network-seams-").FullName;
    private readonly OperatorKey _key = OperatorKey.Generate();
    private readonly SqliteKeyPool _alice, _bob;

    public ProductionSeamTests()
    {
        _alice = Pool(KmeRole.Alice);
        _bob = Pool(KmeRole.Bob);
        // One distilled block of 128 keys of 256 bits, the same at both ends: 64 each end may send with.
        var words = new ulong[128 * 4];
        RandomNumberGenerator.Fill(System.Runtime.InteropServices.MemoryMarshal.AsBytes(words.AsSpan()));
        _alice.Accept(1, PackedBits.FromWords((ulong[])words.Clone(), 128 * 256));
        _bob.Accept(1, PackedBits.FromWords(words, 128 * 256));
    }

    [Fact]
    public async Task Link_key_from_the_pool_is_the_same_at_both_ends_and_taken_once()
    {
        var a = new KeyPoolLinkKeySource(_alice, "a", "b");
        var b = new KeyPoolLinkKeySource(_bob, "b", "a");
        Assert.Equal(64 * 32, a.AvailableBytes);

        var sent = await a.TakeAsync(40);
        var received = await b.TakeAsync(sent.KeyIds, 40);

        Assert.Equal(sent.Material, received.Material);
        Assert.Equal(2, sent.KeyIds.Count);
        Assert.Equal(64, sent.BytesConsumed);
        Assert.Equal(62 * 32, a.AvailableBytes);
        await Assert.ThrowsAsync<LinkKeyUnavailableException>(() => b.TakeAsync(sent.KeyIds, 40).AsTask());       // a replay
        await Assert.ThrowsAsync<LinkKeyUnavailableException>(() => a.TakeAsync(sent.KeyIds, 40).AsTask());       // not the neighbour's key
        await Assert.ThrowsAsync<LinkKeyExhaustedException>(() => a.TakeAsync(63 * 32).AsTask());
    }

    [Fact]
    public async Task Two_nodes_relay_over_a_classical_channel_with_link_key_from_their_pools()
    {
        var (alice, bob) = InMemoryClassicalChannel.CreatePair();
        var topology = TestNetwork.Chain("a", "b");
        await using var linkA = new ClassicalChannelNeighbourLink("b", OnceThenNever(alice));
        await using var linkB = new ClassicalChannelNeighbourLink("a", OnceThenNever(bob));
        await using var nodeA = Node("a", topology);
        await using var nodeB = Node("b", topology);
        nodeA.AddLink(linkA, new KeyPoolLinkKeySource(_alice, "a", "b"));
        nodeB.AddLink(linkB, new KeyPoolLinkKeySource(_bob, "b", "a"));
        await nodeA.StartAsync();
        await nodeB.StartAsync();
        await TestNetwork.Until(() => nodeA.RouteTo("b") is not null, "a to hear b's advertisement");

        var keys = await nodeA.RequestKeysAsync("sae-a", ["sae-b"], 1);

        var got = await nodeB.TakeForSlaveAsync("sae-a", "sae-b", [keys[0].Id]);
        Assert.Equal(keys[0].Key, got[0].Key);
        Assert.Equal(62, _alice.AvailableAsMaster); // the Forward: 32 bytes of pad + 32 of authentication key
        Assert.Equal(63, _bob.AvailableAsMaster);   // the Confirm: 32 bytes of authentication key
    }

    private static Func<CancellationToken, ValueTask<KmeLinkChannel>> OnceThenNever(InMemoryClassicalChannel channel)
    {
        int opened = 0;
        return async ct =>
        {
            if (Interlocked.Exchange(ref opened, 1) == 0) return new KmeLinkChannel(channel, () => true, () => ValueTask.CompletedTask);
            await Task.Delay(Timeout.Infinite, ct);
            throw new OperationCanceledException();
        };
    }

    private RelayNode Node(string id, Qkd.Network.Topology.NetworkTopology topology) => new(new RelayNodeOptions
    {
        NodeId = id, Topology = topology, DatabasePath = Path.Combine(_dir, $"{id}.relay.db"), OperatorKey = _key, SweepInterval = null,
    });

    private SqliteKeyPool Pool(KmeRole role) => new(new SqliteKeyPoolOptions
    {
        DatabasePath = Path.Combine(_dir, $"{role}.keys.db"), LinkId = "a-b", Role = role, ExpirySweepInterval = TimeSpan.FromDays(1),
    }, _key);

    public void Dispose()
    {
        _alice.Dispose();
        _bob.Dispose();
        _key.Dispose();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
