using Qkd.Network.Relay;
using Qkd.Network.Tests.Fakes;

namespace Qkd.Network.Tests;

public sealed class RelayChainTests
{
    [Fact]
    public async Task Keys_relayed_over_a_four_node_chain_are_equal_at_both_ends_and_delivered_once()
    {
        await using var net = await TestNetwork.StartAsync(TestNetwork.Chain("a", "b", "c", "d"));

        var keys = await net["a"].RequestKeysAsync("sae-a", ["sae-d"], 3);

        Assert.Equal(3, keys.Count);
        Assert.All(keys, k => Assert.Equal(32, k.Key.Length));
        var got = await net["d"].TakeForSlaveAsync("sae-a", "sae-d", keys.Select(k => k.Id).ToList());
        Assert.Equal(keys.Select(k => Convert.ToHexString(k.Key)), got.Select(k => Convert.ToHexString(k.Key)));
        Assert.Equal(keys.Select(k => k.Id), got.Select(k => k.Id));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => net["d"].TakeForSlaveAsync("sae-a", "sae-d", [keys[0].Id]));
        // Nobody else can take them: another SAE at d, or the right SAE naming another master.
        Assert.Equal(0, net["d"].Status().KeysHeldForSlaves);
        Assert.Equal(0, net["b"].Status().KeysHeldForSlaves);
        Assert.Equal(0, net["c"].Status().KeysHeldForSlaves);
        Assert.Equal(1, net["b"].Status().TransitsForwarded);
        Assert.Equal(1, net["c"].Status().TransitsForwarded);
        Assert.Equal(1, net["a"].Status().LegsCommitted);
        Assert.Equal(3, net["a"].Status().KeysRelayed);
    }

    [Fact]
    public async Task Link_key_consumed_is_accounted_on_every_hop()
    {
        await using var net = await TestNetwork.StartAsync(TestNetwork.Chain("a", "b", "c", "d"));

        await net["a"].RequestKeysAsync("sae-a", ["sae-d"], 1);

        // Forward: 32 bytes of pad + 32 of authentication key; Confirm back: 32 of authentication key. On every hop.
        foreach (var (from, to) in new[] { ("a", "b"), ("b", "c"), ("c", "d") })
        {
            var sender = net[from].Status().LinkKey.Single(u => u.Neighbour == to);
            var receiver = net[to].Status().LinkKey.Single(u => u.Neighbour == from);
            Assert.Equal(64, sender.SentBytes);
            Assert.Equal(32, sender.ReceivedBytes);
            Assert.Equal(64, receiver.ReceivedBytes);
            Assert.Equal(32, receiver.SentBytes);
            var (bySender, byReceiver) = net.LinkKeys(from, to).Consumed();
            Assert.Equal(3, bySender);   // 96 bytes in 32-byte units, each consumed once at each end
            Assert.Equal(3, byReceiver);
        }
    }

    [Fact]
    public async Task A_key_for_a_slave_on_the_origin_node_needs_no_relay()
    {
        await using var net = await TestNetwork.StartAsync(TestNetwork.Chain("a", "b"));

        var keys = await net["a"].RequestKeysAsync("sae-a", ["sae2-a"], 2);

        var got = await net["a"].TakeForSlaveAsync("sae-a", "sae2-a", keys.Select(k => k.Id).ToList());
        Assert.Equal(keys.Select(k => Convert.ToHexString(k.Key)), got.Select(k => Convert.ToHexString(k.Key)));
        Assert.Empty(net["a"].Status().LinkKey);
    }

    [Fact]
    public async Task Requests_that_name_unknown_or_foreign_SAEs_are_refused_and_take_no_key()
    {
        await using var net = await TestNetwork.StartAsync(TestNetwork.Chain("a", "b", "c"));

        Assert.Contains("not attached to node 'a'", (await Assert.ThrowsAsync<ArgumentException>(() => net["a"].RequestKeysAsync("sae-b", ["sae-c"], 1))).Message);
        Assert.Contains("'nobody'", (await Assert.ThrowsAsync<ArgumentException>(() => net["a"].RequestKeysAsync("sae-a", ["nobody"], 1))).Message);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => net["a"].RequestKeysAsync("sae-a", ["sae-c"], 0));
        Assert.Empty(net["a"].Status().LinkKey);
    }

    [Fact]
    public async Task Many_relays_at_once_each_arrive_once()
    {
        await using var net = await TestNetwork.StartAsync(TestNetwork.Chain("a", "b", "c", "d"));

        var all = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => net["a"].RequestKeysAsync("sae-a", ["sae-d"], 2)));

        var ids = all.SelectMany(k => k).ToList();
        Assert.Equal(40, ids.Select(k => k.Id).Distinct().Count());
        var got = await net["d"].TakeForSlaveAsync("sae-a", "sae-d", ids.Select(k => k.Id).ToList());
        Assert.Equal(ids.Select(k => Convert.ToHexString(k.Key)), got.Select(k => Convert.ToHexString(k.Key)));
    }
}
