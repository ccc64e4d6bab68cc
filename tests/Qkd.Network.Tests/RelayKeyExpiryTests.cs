using System.Diagnostics.Metrics;
using System.Text.Json;
using Qkd.Network.Relay;
using Qkd.Network.Tests.Fakes;

namespace Qkd.Network.Tests;

/// <summary>
/// Relayed keys a slave SAE never fetches do not stay at the destination forever: after
/// <see cref="RelayNodeOptions.HeldKeyLifetime"/> (one hour by default) the sweep deletes them, counts them (status and
/// <c>qkd.relay.expired</c>), and a dec_keys for them gets ETSI's 400 for an unknown key. Time is the fake clock.
/// </summary>
public sealed class RelayKeyExpiryTests
{
    private static string[] Field(JsonElement container, string name) =>
        container.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty(name).GetString()!).ToArray();

    [Fact]
    public async Task Keys_not_fetched_within_the_lifetime_are_deleted_counted_and_refused_as_unknown_while_younger_ones_stay()
    {
        await using var etsi = await EtsiNetwork.StartAsync(TestNetwork.Chain("a", "b", "c"));
        var net = etsi.Net;
        long measured = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Qkd.Network" && instrument.Name == "qkd.relay.expired") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            // Every test's nodes publish under the meter name: count node c's expiries (only this class lets keys expire,
            // and its tests run one at a time); the status figures are checked exactly, the counter at least.
            foreach (var t in tags)
                if (t.Key == "node" && (string?)t.Value == "c") Interlocked.Add(ref measured, value);
        });
        listener.Start();

        var (status, old) = await EtsiNetwork.CallAsync(etsi.Sae("sae-a"), "api/v1/keys/sae-c/enc_keys?number=2");
        Assert.Equal(200, status);
        net.Time.Advance(TimeSpan.FromMinutes(40));
        await net.ConvergeAsync(); // the advertisements aged with the clock
        var (status2, young) = await EtsiNetwork.CallAsync(etsi.Sae("sae-a"), "api/v1/keys/sae-c/enc_keys?number=1");
        Assert.Equal(200, status2);
        Assert.Equal(3, net["c"].Status().KeysHeldForSlaves);

        // 40 minutes: nothing has expired yet.
        await net["c"].SweepAsync();
        Assert.Equal(3, net["c"].Status().KeysHeldForSlaves);
        Assert.Equal(0, net["c"].Status().KeysExpired);

        // 61 minutes after the first relay, 21 after the second: the first relay's keys go, the second's stay.
        net.Time.Advance(TimeSpan.FromMinutes(21));
        await net["c"].SweepAsync();
        var s = net["c"].Status();
        Assert.Equal(1, s.KeysHeldForSlaves);
        Assert.Equal(2, s.KeysExpired);
        Assert.Equal(1, s.DestinationsExpired);
        listener.RecordObservableInstruments();
        Assert.True(Interlocked.Read(ref measured) >= 2, $"qkd.relay.expired counted {measured}");

        // The SAE that asks for an expired key gets 400 (unknown key), nothing is taken; the young key is still delivered once.
        string[] oldIds = Field(old, "key_ID");
        var (refused, error) = await EtsiNetwork.CallAsync(etsi.Sae("sae-c"), $"api/v1/keys/sae-a/dec_keys?key_ID={oldIds[0]}");
        Assert.Equal(400, refused);
        Assert.Contains("expired", error.GetProperty("message").GetString());
        var (mixed, _) = await EtsiNetwork.CallAsync(etsi.Sae("sae-c"), $"api/v1/keys/sae-a/dec_keys?key_ID={Field(young, "key_ID")[0]}&key_ID={oldIds[1]}");
        Assert.Equal(400, mixed); // all or nothing
        var (ok, dec) = await EtsiNetwork.CallAsync(etsi.Sae("sae-c"), $"api/v1/keys/sae-a/dec_keys?key_ID={Field(young, "key_ID")[0]}");
        Assert.Equal(200, ok);
        Assert.Equal(Field(young, "key"), Field(dec, "key"));
        Assert.Equal(0, net["c"].Status().KeysHeldForSlaves);

        // Later sweeps find nothing more; the count stays.
        net.Time.Advance(TimeSpan.FromHours(2));
        await net["c"].SweepAsync();
        Assert.Equal(2, net["c"].Status().KeysExpired);
    }

    [Fact]
    public async Task A_destination_down_longer_than_the_lifetime_expires_the_keys_as_it_starts_and_keeps_the_count()
    {
        await using var net = await TestNetwork.StartAsync(TestNetwork.Chain("a", "b", "c"));
        var keys = await net["a"].RequestKeysAsync("sae-a", ["sae-c", "sae2-c"], 2); // multicast: one row per key and slave
        Assert.Equal(4, net["c"].Status().KeysHeldForSlaves);

        await net.CrashAsync("c");
        net.Time.Advance(TimeSpan.FromMinutes(61));
        await net.RestartAsync("c");

        var s = net["c"].Status();
        Assert.Equal(0, s.KeysHeldForSlaves);
        Assert.Equal(4, s.KeysExpired);
        await Assert.ThrowsAsync<KeyNotFoundException>(() => net["c"].TakeForSlaveAsync("sae-a", "sae-c", [keys[0].Id]));
        // The relay stays known as expired: the origin committed it, and a late copy of its Forward stores nothing.
        Assert.Equal(1, s.DestinationsExpired);
        Assert.Equal(1, net["a"].Status().LegsCommitted);
    }

    [Fact]
    public void A_lifetime_shorter_than_twice_the_relay_timeout_is_refused_naming_the_setting()
    {
        using var key = Kme.Pool.OperatorKey.Generate();
        var options = new RelayNodeOptions
        {
            NodeId = "a", Topology = TestNetwork.Chain("a", "b"), DatabasePath = Path.Combine(Path.GetTempPath(), "unused.db"), OperatorKey = key,
            HeldKeyLifetime = TimeSpan.FromSeconds(59),
        };
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new RelayNode(options));
        Assert.Contains(nameof(RelayNodeOptions.HeldKeyLifetime), e.Message);
    }
}
