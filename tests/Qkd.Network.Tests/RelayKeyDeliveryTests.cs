using System.Text.Json;
using Qkd.Network.Tests.Fakes;

namespace Qkd.Network.Tests;

/// <summary>
/// ETSI GS QKD 014 across a network of trusted nodes: each node's KME is a real <c>EtsiKeyDeliveryServer</c> (Kestrel,
/// HTTPS, mutual TLS) over its relay (<c>RelayKeyDeliverySource</c>); SAEs call it as they call a link's KME.
/// </summary>
public sealed class RelayKeyDeliveryTests
{
    private static string[] KeysOf(JsonElement container) =>
        container.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("key").GetString()!).ToArray();

    private static string[] IdsOf(JsonElement container) =>
        container.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("key_ID").GetString()!).ToArray();

    [Fact]
    public async Task A_master_at_one_end_of_a_four_node_chain_gets_keys_its_slave_at_the_other_end_redeems_once()
    {
        await using var etsi = await EtsiNetwork.StartAsync(TestNetwork.Chain("a", "b", "c", "d"));

        var (status, enc) = await EtsiNetwork.CallAsync(etsi.Sae("sae-a"), "api/v1/keys/sae-d/enc_keys?number=2");
        Assert.Equal(200, status);
        string[] ids = IdsOf(enc), keys = KeysOf(enc);
        Assert.Equal(2, ids.Length);
        Assert.All(keys, k => Assert.Equal(32, Convert.FromBase64String(k).Length));
        // Committed at the origin after d stored them: three hops, b and c transit only.
        Assert.Equal(1, etsi.Net["a"].Status().LegsCommitted);
        Assert.Equal(1, etsi.Net["b"].Status().TransitsForwarded);
        Assert.Equal(1, etsi.Net["c"].Status().TransitsForwarded);
        Assert.Equal(2, etsi.Net["d"].Status().KeysHeldForSlaves);

        var (decStatus, dec) = await EtsiNetwork.CallAsync(etsi.Sae("sae-d"), $"api/v1/keys/sae-a/dec_keys?key_ID={ids[0]}&key_ID={ids[1]}");
        Assert.Equal(200, decStatus);
        Assert.Equal(ids, IdsOf(dec));
        Assert.Equal(keys, KeysOf(dec));
        Assert.Equal(0, etsi.Net["d"].Status().KeysHeldForSlaves);

        // Exactly once: the same ID again is refused, by GET and by POST.
        var (again, error) = await EtsiNetwork.CallAsync(etsi.Sae("sae-d"), $"api/v1/keys/sae-a/dec_keys?key_ID={ids[0]}");
        Assert.Equal(400, again);
        Assert.Contains("already delivered", error.GetProperty("message").GetString());
        var (againPost, _) = await EtsiNetwork.CallAsync(etsi.Sae("sae-d"), "api/v1/keys/sae-a/dec_keys", $$"""{"key_IDs":[{"key_ID":"{{ids[1]}}"}]}""");
        Assert.Equal(400, againPost);
        // Another SAE at d cannot take a relayed key meant for sae-d.
        var (_, third) = await EtsiNetwork.CallAsync(etsi.Sae("sae-a"), "api/v1/keys/sae-d/enc_keys");
        var (foreign, _) = await EtsiNetwork.CallAsync(etsi.Sae("sae2-d"), $"api/v1/keys/sae-a/dec_keys?key_ID={IdsOf(third)[0]}");
        Assert.Equal(400, foreign);
        Assert.Equal(1, etsi.Net["d"].Status().KeysHeldForSlaves);
    }

    [Fact]
    public async Task Status_reports_the_route_and_what_its_scarcest_hop_can_carry()
    {
        await using var etsi = await EtsiNetwork.StartAsync(TestNetwork.Chain("a", "b", "c", "d"));

        var (status, body) = await EtsiNetwork.CallAsync(etsi.Sae("sae-a"), "api/v1/keys/sae-d/status");

        Assert.Equal(200, status);
        Assert.Equal("a", body.GetProperty("source_KME_ID").GetString());
        Assert.Equal("d", body.GetProperty("target_KME_ID").GetString());
        Assert.Equal("sae-a", body.GetProperty("master_SAE_ID").GetString());
        Assert.Equal("sae-d", body.GetProperty("slave_SAE_ID").GetString());
        Assert.Equal(256, body.GetProperty("key_size").GetInt32());
        // 1 MiB of link key each way on every hop, 32 + 32 bytes per relayed key.
        Assert.Equal((1 << 20) / 64, body.GetProperty("stored_key_count").GetInt64());
        Assert.True(body.GetProperty("max_SAE_ID_count").GetInt32() > 0);
    }

    [Fact]
    public async Task A_multicast_reaches_two_SAEs_at_two_nodes_each_once()
    {
        await using var etsi = await EtsiNetwork.StartAsync(TestNetwork.Chain("a", "b", "c", "d"));

        var (status, enc) = await EtsiNetwork.CallAsync(etsi.Sae("sae-a"), "api/v1/keys/sae-d/enc_keys",
            """{"number": 3, "additional_slave_SAE_IDs": ["sae-c", "sae2-d"]}""");

        Assert.Equal(200, status);
        string[] ids = IdsOf(enc), keys = KeysOf(enc);
        Assert.Equal(3, ids.Length);
        string query = string.Join("&", ids.Select(id => $"key_ID={id}"));
        foreach (string slave in new[] { "sae-d", "sae-c", "sae2-d" })
        {
            var (decStatus, dec) = await EtsiNetwork.CallAsync(etsi.Sae(slave), $"api/v1/keys/sae-a/dec_keys?{query}");
            Assert.Equal(200, decStatus);
            Assert.Equal(keys, KeysOf(dec));
            var (again, _) = await EtsiNetwork.CallAsync(etsi.Sae(slave), $"api/v1/keys/sae-a/dec_keys?{query}");
            Assert.Equal(400, again);
        }
        // One request, two legs (one per destination node), committed together.
        Assert.Equal(2, etsi.Net["a"].Status().LegsCommitted);
        Assert.Equal(0, etsi.Net["c"].Status().KeysHeldForSlaves);
        Assert.Equal(0, etsi.Net["d"].Status().KeysHeldForSlaves);
    }

    [Fact]
    public async Task Unknown_or_misplaced_SAEs_are_refused_naming_them_and_nothing_is_relayed()
    {
        await using var etsi = await EtsiNetwork.StartAsync(TestNetwork.Chain("a", "b", "c", "d"));

        var (unknown, body) = await EtsiNetwork.CallAsync(etsi.Sae("sae-a"), "api/v1/keys/nobody/enc_keys");
        Assert.Equal(400, unknown);
        Assert.Contains("'nobody'", body.GetProperty("message").GetString());

        var (unknownExtra, extraBody) = await EtsiNetwork.CallAsync(etsi.Sae("sae-a"), "api/v1/keys/sae-d/enc_keys",
            """{"additional_slave_SAE_IDs": ["sae-c", "ghost"]}""");
        Assert.Equal(400, unknownExtra);
        Assert.Contains("'ghost'", extraBody.GetProperty("message").GetString());

        var (local, localBody) = await EtsiNetwork.CallAsync(etsi.Sae("sae-a"), "api/v1/keys/sae2-a/enc_keys");
        Assert.Equal(400, local);
        Assert.Contains("'sae2-a'", localBody.GetProperty("message").GetString());

        var (unknownStatus, _) = await EtsiNetwork.CallAsync(etsi.Sae("sae-a"), "api/v1/keys/nobody/status");
        Assert.Equal(400, unknownStatus);

        // An SAE of another node calling here, and a certificate naming no SAE: 401.
        var (wrongKme, wrongBody) = await EtsiNetwork.CallAsync(etsi.Stranger("a", "sae-d"), "api/v1/keys/sae-c/enc_keys");
        Assert.Equal(401, wrongKme);
        // d's SAEs have no certificate identity at a's KME: one of them calling here is a stranger.
        Assert.Contains("does not identify an SAE", wrongBody.GetProperty("message").GetString());
        var (stranger, _) = await EtsiNetwork.CallAsync(etsi.Stranger("a", "mallory"), "api/v1/keys/sae-d/enc_keys");
        Assert.Equal(401, stranger);

        Assert.All(etsi.Net.Nodes, n => Assert.Empty(n.Status().LinkKey));
        Assert.Equal(0, etsi.Net["a"].Status().LegsCommitted + etsi.Net["a"].Status().LegsAborted);
    }

    [Fact]
    public async Task No_route_is_a_503_that_stores_nothing_and_spends_no_link_key()
    {
        await using var etsi = await EtsiNetwork.StartAsync(TestNetwork.Chain("a", "b", "c", "d"));
        etsi.Net.LinkKeys("c", "d").Drain("c");
        await etsi.Net.ConvergeAsync();

        var (status, body) = await EtsiNetwork.CallAsync(etsi.Sae("sae-a"), "api/v1/keys/sae-d/enc_keys?number=4");

        Assert.Equal(503, status);
        string message = body.GetProperty("message").GetString()!;
        Assert.Contains("No route", message);
        Assert.Contains("no key was delivered", message);
        Assert.All(etsi.Net.Nodes, n => Assert.Equal(0, n.Status().KeysHeldForSlaves));
        Assert.All(etsi.Net.Nodes, n => Assert.Equal(0L, n.Status().LinkKey.Sum(u => u.SentBytes)));
        Assert.Equal(0, etsi.Net["a"].Status().LegsCommitted);
        var (_, statusBody) = await EtsiNetwork.CallAsync(etsi.Sae("sae-a"), "api/v1/keys/sae-d/status");
        Assert.Equal(0, statusBody.GetProperty("stored_key_count").GetInt64());

        // c's SAE, before the dry hop, is still reachable.
        var (reachable, _) = await EtsiNetwork.CallAsync(etsi.Sae("sae-a"), "api/v1/keys/sae-c/enc_keys");
        Assert.Equal(200, reachable);
    }
}
