using Qkd.Network.Relay;
using Qkd.Network.Tests.Fakes;

namespace Qkd.Network.Tests;

/// <summary>
/// Nodes dropped as a kill would drop them (links down, no more writes; the SQLite files kept) during relays, and started
/// again on their files. After each: every request either returned keys that the destination delivers once, or failed
/// and the destination holds nothing of it.
/// </summary>
public sealed class RelayCrashTests
{
    [Fact]
    public async Task An_intermediate_killed_with_Forwards_in_flight_restarts_and_the_relays_roll_back_everywhere()
    {
        await using var net = await TestNetwork.StartAsync(TestNetwork.Chain("a", "b", "c", "d"));
        net.Wire("b", "c").Hold("c");
        var requests = Enumerable.Range(0, 3).Select(_ => net["a"].RequestKeysAsync("sae-a", ["sae-d"], 1)).ToList();
        await TestNetwork.Until(() => net.Wire("b", "c").HeldFor("c") == 3, "three Forwards to wait on b-c");

        await net.CrashAsync("b"); // the Forwards waiting on b-c are lost with b
        await net.RestartAsync("b");
        net.Time.Advance(TimeSpan.FromSeconds(31));
        await net["a"].SweepAsync();

        foreach (var r in requests) await Assert.ThrowsAsync<RelayFailedException>(() => r);
        await TestNetwork.Until(() => net["a"].Status() is { LegsAborted: 3, LegsInFlight: 0 } && net["d"].Status().DestinationsAborted == 3,
            "the aborts to reach d");
        Assert.Equal(0, net["d"].Status().KeysHeldForSlaves);
        await AssertStillRelaysAsync(net, "a", "d");
    }

    [Fact]
    public async Task An_intermediate_killed_with_Confirms_in_flight_leaves_keys_stored_at_the_destination_that_the_abort_removes()
    {
        await using var net = await TestNetwork.StartAsync(TestNetwork.Chain("a", "b", "c", "d"));
        net.Wire("b", "c").Hold("b"); // the Confirms from c to b wait
        var requests = Enumerable.Range(0, 2).Select(_ => net["a"].RequestKeysAsync("sae-a", ["sae-d"], 2)).ToList();
        await TestNetwork.Until(() => net.Wire("b", "c").HeldFor("b") == 2, "two Confirms to wait on b-c");
        Assert.Equal(4, net["d"].Status().KeysHeldForSlaves); // d stored them; a has not handed them out

        await net.CrashAsync("b");
        await net.RestartAsync("b");
        net.Time.Advance(TimeSpan.FromSeconds(31));
        await net["a"].SweepAsync();

        foreach (var r in requests) await Assert.ThrowsAsync<RelayFailedException>(() => r);
        await TestNetwork.Until(() => net["a"].Status() is { LegsAborted: 2, LegsInFlight: 0 } && net["d"].Status().DestinationsAborted == 2,
            "the aborts to reach d");
        Assert.Equal(0, net["d"].Status().KeysHeldForSlaves);
        await AssertStillRelaysAsync(net, "a", "d");
    }

    [Fact]
    public async Task An_origin_killed_mid_relay_rolls_it_back_when_it_restarts()
    {
        await using var net = await TestNetwork.StartAsync(TestNetwork.Chain("a", "b", "c", "d"));
        net.Wire("c", "d").Hold("d");
        var request = net["a"].RequestKeysAsync("sae-a", ["sae-d"], 1);
        await TestNetwork.Until(() => net.Wire("c", "d").HeldFor("d") == 1, "the Forward to wait on c-d");

        await net.CrashAsync("a");
        await Assert.ThrowsAsync<RelayFailedException>(() => request); // the SAE's connection is gone with the node
        await net.RestartAsync("a", converge: false); // it finds the leg unfinished and will send the destination an abort
        net.Wire("c", "d").Release("d"); // the Forward arrives after all, then the abort
        await net.ConvergeAsync();
        await net["a"].SweepAsync(); // (in service every few seconds) aborts not yet acknowledged go again

        await TestNetwork.Until(() => net["a"].Status() is { LegsAborted: 1, LegsInFlight: 0 } && net["d"].Status().DestinationsAborted == 1,
            "the abort to reach d");
        Assert.Equal(0, net["d"].Status().KeysHeldForSlaves);
        await AssertStillRelaysAsync(net, "a", "d");
    }

    [Fact]
    public async Task A_destination_killed_after_storing_keeps_them_for_its_slave()
    {
        await using var net = await TestNetwork.StartAsync(TestNetwork.Chain("a", "b", "c", "d"));
        var keys = await net["a"].RequestKeysAsync("sae-a", ["sae-d"], 2);

        await net.CrashAsync("d");
        await net.RestartAsync("d");

        var got = await net["d"].TakeForSlaveAsync("sae-a", "sae-d", keys.Select(k => k.Id).ToList());
        Assert.Equal(keys.Select(k => Convert.ToHexString(k.Key)), got.Select(k => Convert.ToHexString(k.Key)));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => net["d"].TakeForSlaveAsync("sae-a", "sae-d", [keys[0].Id]));
    }

    private static async Task AssertStillRelaysAsync(TestNetwork net, string from, string to)
    {
        var keys = await net[from].RequestKeysAsync($"sae-{from}", [$"sae-{to}"], 1);
        var got = await net[to].TakeForSlaveAsync($"sae-{from}", $"sae-{to}", [keys[0].Id]);
        Assert.Equal(keys[0].Key, got[0].Key);
    }
}
