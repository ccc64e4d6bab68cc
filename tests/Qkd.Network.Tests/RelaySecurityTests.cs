using Qkd.Network.Relay;
using Qkd.Network.Tests.Fakes;

namespace Qkd.Network.Tests;

/// <summary>Relay messages altered on the wire, invented, or sent again: rejected, counted, and no key stored twice.</summary>
public sealed class RelaySecurityTests
{
    [Fact]
    public async Task A_Forward_altered_on_the_way_is_rejected_as_forged_and_the_relay_rolls_back()
    {
        await using var net = await TestNetwork.StartAsync(TestNetwork.Chain("a", "b", "c", "d"));
        var wire = net.Wire("b", "c");
        wire.Hold("c");
        var request = net["a"].RequestKeysAsync("sae-a", ["sae-d"], 1);
        await TestNetwork.Until(() => wire.HeldFor("c") == 1, "the Forward to wait on b-c");
        // The attacker takes the Forward off the wire and sends a copy with one ciphertext bit flipped.
        byte[] original = wire.Log.Last(m => m.From == "b").Bytes;
        wire.Cut();
        wire.Restore();
        byte[] altered = (byte[])original.Clone();
        altered[^70] ^= 0x01; // inside the padded key (the tag, 3 link key IDs and their count are the last 65 bytes)
        wire.Inject("c", altered);

        await TestNetwork.Until(() => net["c"].Status().ForgedRejected == 1, "c to reject the altered Forward");
        net.Time.Advance(TimeSpan.FromSeconds(31));
        await net["a"].SweepAsync();
        await Assert.ThrowsAsync<RelayFailedException>(() => request);
        await TestNetwork.Until(() => net["d"].Status().DestinationsAborted == 1, "the abort to reach d");
        Assert.Equal(0, net["d"].Status().KeysHeldForSlaves);
        Assert.Equal(0, net["c"].Status().TransitsForwarded);
    }

    [Fact]
    public async Task Relay_messages_sent_again_are_rejected_as_replays_and_store_nothing()
    {
        await using var net = await TestNetwork.StartAsync(TestNetwork.Chain("a", "b", "c", "d"));
        var keys = await net["a"].RequestKeysAsync("sae-a", ["sae-d"], 1);
        await net["d"].TakeForSlaveAsync("sae-a", "sae-d", [keys[0].Id]);

        // Every relay message that crossed c-d (the Forward to d, the Confirm to c), sent again.
        var wire = net.Wire("c", "d");
        foreach (var (from, bytes) in wire.Log.Where(m => m.Bytes[0] == 2).ToList())
            wire.Inject(from == "c" ? "d" : "c", bytes);

        await TestNetwork.Until(() => net["d"].Status().ReplayedRejected == 1 && net["c"].Status().ReplayedRejected == 1, "both replays to be rejected");
        Assert.Equal(0, net["d"].Status().KeysHeldForSlaves);
        Assert.Equal(1, net["d"].Status().DestinationsStored);
        await Assert.ThrowsAsync<KeyNotFoundException>(() => net["d"].TakeForSlaveAsync("sae-a", "sae-d", [keys[0].Id]));
    }

    [Fact]
    public async Task Garbage_and_messages_that_name_no_link_key_are_rejected_and_counted()
    {
        await using var net = await TestNetwork.StartAsync(TestNetwork.Chain("a", "b"));
        var wire = net.Wire("a", "b");
        var invented = new RelayMessage
        {
            Kind = RelayMessageKind.Forward, RelayId = Guid.NewGuid(), Origin = "a", Destination = "b", To = "b", MasterSae = "sae-a",
            SlaveSaes = ["sae-b"], KeySizeBytes = 32, KeyIds = [Guid.NewGuid()], Path = ["a", "b"], PathIndex = 1, Payload = new byte[32],
        };
        wire.Inject("b", [2, .. RelayCodec.Encode(invented)]);                                            // no link key named
        wire.Inject("b", [2, .. RelayCodec.Encode(invented with { LinkKeyIds = [Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid()] })]); // key b never had
        wire.Inject("b", [2, 1, 2, 3]);                                                                    // not a relay message
        wire.Inject("b", [9]);                                                                             // unknown envelope

        await TestNetwork.Until(() => net["b"].Status() is { ForgedRejected: 1, ReplayedRejected: 1, MalformedRejected: 2 }, "all four to be rejected");
        Assert.Equal(0, net["b"].Status().DestinationsStored);
    }
}
