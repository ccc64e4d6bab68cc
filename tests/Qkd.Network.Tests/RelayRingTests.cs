using Qkd.Network.Relay;
using Qkd.Network.Tests.Fakes;

namespace Qkd.Network.Tests;

/// <summary>A ring a-b-c-d-a (and a chain with a detour): multicast, link cuts mid-relay, routing by available key.</summary>
public sealed class RelayRingTests
{
    [Fact]
    public async Task A_multicast_request_gives_every_slave_the_same_keys_once()
    {
        await using var net = await TestNetwork.StartAsync(TestNetwork.Ring("a", "b", "c", "d"));

        var keys = await net["a"].RequestKeysAsync("sae-a", ["sae-c", "sae2-c", "sae-d", "sae-b"], 2);

        var ids = keys.Select(k => k.Id).ToList();
        foreach (var (node, sae) in new[] { ("c", "sae-c"), ("c", "sae2-c"), ("d", "sae-d"), ("b", "sae-b") })
        {
            var got = await net[node].TakeForSlaveAsync("sae-a", sae, ids);
            Assert.Equal(keys.Select(k => Convert.ToHexString(k.Key)), got.Select(k => Convert.ToHexString(k.Key)));
            await Assert.ThrowsAsync<KeyNotFoundException>(() => net[node].TakeForSlaveAsync("sae-a", sae, ids));
        }
        Assert.Equal(3, net["a"].Status().LegsCommitted); // one leg per destination node
    }

    [Fact]
    public async Task A_hop_whose_next_link_is_cut_mid_relay_reroutes_and_the_key_arrives_once()
    {
        // a-b-c-d with a detour b-e-c: the relay a→d plans a-b-c-d; the b-c link is cut while the Forward is on a-b.
        await using var net = await TestNetwork.StartAsync(TestNetwork.Build("detour", ["a", "b", "c", "d", "e"], false, ("b", "e"), ("e", "c")));
        // Drop the unused chain link d-e... there is none: e is only on the detour.
        Assert.Equal(["a", "b", "c", "d"], net["a"].RouteTo("d"));
        net.Wire("a", "b").Hold("b");
        var request = net["a"].RequestKeysAsync("sae-a", ["sae-d"], 1);
        await TestNetwork.Until(() => net.Wire("a", "b").HeldFor("b") == 1, "the Forward to wait on a-b");
        net.Wire("b", "c").Cut();
        net.Wire("a", "b").Release("b");

        var keys = await request;

        var got = await net["d"].TakeForSlaveAsync("sae-a", "sae-d", [keys[0].Id]);
        Assert.Equal(keys[0].Key, got[0].Key);
        Assert.Equal(1, net["b"].Status().Rerouted);
        Assert.Equal(1, net["e"].Status().TransitsForwarded);
        Assert.Equal(0, net["d"].Status().KeysHeldForSlaves);
    }

    [Fact]
    public async Task A_relay_with_no_way_on_is_rolled_back_everywhere_and_the_retry_goes_round_the_other_side()
    {
        await using var net = await TestNetwork.StartAsync(TestNetwork.Ring("a", "b", "c", "d"));
        Assert.Equal(["a", "b", "c"], net["a"].RouteTo("c"));
        net.Wire("a", "b").Hold("b");
        var request = net["a"].RequestKeysAsync("sae-a", ["sae-c"], 1);
        await TestNetwork.Until(() => net.Wire("a", "b").HeldFor("b") == 1, "the Forward to wait on a-b");
        net.Wire("b", "c").Cut();
        net.Wire("a", "b").Release("b");

        var failure = await Assert.ThrowsAsync<RelayFailedException>(() => request);
        Assert.Equal(AbortReason.NoRoute, failure.Reason);
        // The origin tells the destination (the other way round) and waits for its acknowledgement.
        await TestNetwork.Until(() => net["a"].Status() is { LegsAborted: 1, LegsInFlight: 0 } && net["c"].Status().DestinationsAborted == 1, "the abort to reach c");
        Assert.Equal(0, net["c"].Status().KeysHeldForSlaves);
        Assert.Equal(1, net["b"].Status().TransitsFailed);

        await net.ConvergeAsync();
        Assert.Equal(["a", "d", "c"], net["a"].RouteTo("c"));
        var keys = await net["a"].RequestKeysAsync("sae-a", ["sae-c"], 1);
        Assert.Equal(keys[0].Key, (await net["c"].TakeForSlaveAsync("sae-a", "sae-c", [keys[0].Id]))[0].Key);
        Assert.Equal(0, net["c"].Status().KeysHeldForSlaves);
    }

    [Fact]
    public async Task A_Forward_lost_with_a_cut_link_times_out_at_the_origin_and_the_destination_never_delivers_it()
    {
        await using var net = await TestNetwork.StartAsync(TestNetwork.Ring("a", "b", "c", "d"));
        net.Wire("b", "c").Hold("c");
        var request = net["a"].RequestKeysAsync("sae-a", ["sae-c"], 1);
        await TestNetwork.Until(() => net.Wire("b", "c").HeldFor("c") == 1, "the Forward to wait on b-c");
        net.Wire("b", "c").Cut(); // the Forward is lost with the link

        net.Time.Advance(TimeSpan.FromSeconds(31));
        await net["a"].SweepAsync();

        Assert.Equal(AbortReason.Timeout, (await Assert.ThrowsAsync<RelayFailedException>(() => request)).Reason);
        await TestNetwork.Until(() => net["a"].Status() is { LegsAborted: 1, LegsInFlight: 0 } && net["c"].Status().DestinationsAborted == 1, "the abort to reach c");
        Assert.Equal(0, net["c"].Status().KeysHeldForSlaves);
    }

    [Fact]
    public async Task A_Forward_that_arrives_after_its_relay_was_given_up_is_never_delivered()
    {
        await using var net = await TestNetwork.StartAsync(TestNetwork.Ring("a", "b", "c", "d"));
        net.Wire("b", "c").Hold("c");
        var request = net["a"].RequestKeysAsync("sae-a", ["sae-c"], 1);
        await TestNetwork.Until(() => net.Wire("b", "c").HeldFor("c") == 1, "the Forward to wait on b-c");
        net.Time.Advance(TimeSpan.FromSeconds(31));
        await net["a"].SweepAsync();
        await Assert.ThrowsAsync<RelayFailedException>(() => request);
        // The abort takes a-b-c behind the held Forward: c stores the keys, then drops them (a Forward after the abort is refused).
        net.Wire("b", "c").Release("c");
        await TestNetwork.Until(() => net["c"].Status().DestinationsAborted == 1 && net["a"].Status() is { LegsAborted: 1, LegsInFlight: 0 },
            "the abort to be recorded at c and acknowledged");

        Assert.Equal(0, net["c"].Status().KeysHeldForSlaves);
        Assert.Equal(0, net["c"].Status().DestinationsStored);
    }

    [Fact]
    public async Task Routing_takes_the_path_with_enough_key_and_reroutes_when_a_link_runs_dry()
    {
        await using var net = await TestNetwork.StartAsync(TestNetwork.Ring("a", "b", "c", "d"));
        Assert.Equal(["a", "b", "c"], net["a"].RouteTo("c"));

        // a-b holds less than a relay needs (64 bytes for one 32-byte key): the relay goes by d.
        net.LinkKeys("a", "b").Drain("a");
        net.LinkKeys("a", "b").Add("a", 32);
        Assert.Equal(["a", "d", "c"], net["a"].RouteTo("c"));
        var first = await net["a"].RequestKeysAsync("sae-a", ["sae-c"], 1);
        Assert.Equal(1, net["d"].Status().TransitsForwarded);

        // d-c runs dry (d advertises it), a-b is refilled: the next relay goes by b.
        net.LinkKeys("d", "c").Drain("d");
        net.LinkKeys("a", "b").Add("a", 1 << 16);
        await net.ConvergeAsync();
        Assert.Equal(["a", "b", "c"], net["a"].RouteTo("c"));
        var second = await net["a"].RequestKeysAsync("sae-a", ["sae-c"], 1);
        Assert.Equal(1, net["b"].Status().TransitsForwarded);

        var got = await net["c"].TakeForSlaveAsync("sae-a", "sae-c", [first[0].Id, second[0].Id]);
        Assert.Equal(first[0].Key, got[0].Key);
        Assert.Equal(second[0].Key, got[1].Key);

        // Both ways dry: refused before anything is sent or taken.
        net.LinkKeys("a", "b").Drain("a");
        var before = net["a"].Status().LinkKey.Sum(u => u.SentBytes);
        Assert.Equal(AbortReason.NoRoute, (await Assert.ThrowsAsync<RelayFailedException>(() => net["a"].RequestKeysAsync("sae-a", ["sae-c"], 1))).Reason);
        Assert.Equal(before, net["a"].Status().LinkKey.Sum(u => u.SentBytes));
    }
}
