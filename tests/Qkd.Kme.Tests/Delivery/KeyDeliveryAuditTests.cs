using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Qkd.Kme.Delivery;

namespace Qkd.Kme.Tests.Delivery;

/// <summary>The audit hook: every key handed out is reported (IDs and SAE IDs) before the answer, and a hook that fails keeps the keys back.</summary>
public sealed class KeyDeliveryAuditTests : IDisposable
{
    private readonly TestCertificates _certs = new();

    public void Dispose() => _certs.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed class RecordingAudit : IKeyDeliveryAudit
    {
        public ConcurrentQueue<(string Operation, string Master, string Slave, Guid[] Ids)> Records { get; } = new();

        public void KeysDelivered(string operation, string masterSaeId, string slaveSaeId, IReadOnlyList<Guid> keyIds) =>
            Records.Enqueue((operation, masterSaeId, slaveSaeId, keyIds.ToArray()));
    }

    private sealed class FailingAudit : IKeyDeliveryAudit
    {
        public void KeysDelivered(string operation, string masterSaeId, string slaveSaeId, IReadOnlyList<Guid> keyIds) =>
            throw new IOException("audit log: disk full");
    }

    private static Guid[] Ids(string body) => JsonDocument.Parse(body).RootElement.GetProperty("keys").EnumerateArray()
        .Select(k => Guid.Parse(k.GetProperty("key_ID").GetString()!)).ToArray();

    [Fact]
    public async Task Enc_keys_and_dec_keys_are_reported_with_their_key_IDs_and_SAEs()
    {
        var alice = new RecordingAudit();
        var bob = new RecordingAudit();
        await using var link = await KmeLink.StartAsync(_certs, 4, 8, aliceAudit: alice, bobAudit: bob);

        var enc = await link.Client(link.Alice, "sae-alice-1").GetAsync("/api/v1/keys/sae-bob-1/enc_keys?number=3", Ct);
        Assert.Equal(HttpStatusCode.OK, enc.StatusCode);
        var ids = Ids(await enc.Content.ReadAsStringAsync(Ct));
        var dec = await link.Client(link.Bob, "sae-bob-1").GetAsync($"/api/v1/keys/sae-alice-1/dec_keys?key_ID={ids[1]}", Ct);
        Assert.Equal(HttpStatusCode.OK, dec.StatusCode);

        var master = Assert.Single(alice.Records);
        Assert.Equal(("enc_keys", "sae-alice-1", "sae-bob-1"), (master.Operation, master.Master, master.Slave));
        Assert.Equal(ids, master.Ids);
        var slave = Assert.Single(bob.Records);
        Assert.Equal(("dec_keys", "sae-alice-1", "sae-bob-1"), (slave.Operation, slave.Master, slave.Slave));
        Assert.Equal([ids[1]], slave.Ids);
    }

    [Fact]
    public async Task A_delivery_that_cannot_be_audited_is_not_handed_out()
    {
        await using var link = await KmeLink.StartAsync(_certs, 4, 8, aliceAudit: new FailingAudit());
        var response = await link.Client(link.Alice, "sae-alice-1").GetAsync("/api/v1/keys/sae-bob-1/enc_keys?number=2", Ct);
        string body = await response.Content.ReadAsStringAsync(Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.DoesNotContain("\"key\"", body);
    }
}
