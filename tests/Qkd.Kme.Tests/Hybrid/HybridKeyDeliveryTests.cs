using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Qkd.ClassicalChannel;
using Qkd.Kme.Delivery;
using Qkd.Kme.Hybrid;
using Qkd.Kme.PeerLink;
using Qkd.Kme.Pool;
using Qkd.Kme.Tests.Delivery;
using Qkd.Pqc.Algorithms;
using Qkd.Pqc.Hybrid;

namespace Qkd.Kme.Tests.Hybrid;

/// <summary>
/// Hybrid keys through ETSI GS QKD 014 with the real servers (Kestrel, mutual TLS), durable pools (SQLite) and the
/// KME link's reservation protocol (<see cref="KmeSync"/>, its real wire format, over an in-memory channel): the master
/// SAE asks enc_keys with {"hybrid": "ml-kem-768"}, the slave SAE gets the same keys by dec_keys, and they are neither
/// the QKD keys with those IDs nor the ML-KEM secret.
/// </summary>
public sealed class HybridKeyDeliveryTests : IClassFixture<HybridKeyDeliveryTests.Certs>, IAsyncDisposable
{
    public sealed class Certs : IDisposable
    {
        public TestCertificates Value { get; } = new();

        public void Dispose() => Value.Dispose();
    }

    private const int Blocks = 4, KeysPerBlock = 8;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly TestCertificates _certs;
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-hybrid-").FullName;
    private readonly KemKeyPair _aliceKem = PostQuantum.MlKem768.GenerateKeyPair(), _bobKem = PostQuantum.MlKem768.GenerateKeyPair();
    private readonly List<IAsyncDisposable> _cleanup = [];

    public HybridKeyDeliveryTests(Certs certs) => _certs = certs.Value;

    public async ValueTask DisposeAsync()
    {
        foreach (var item in Enumerable.Reverse(_cleanup)) await item.DisposeAsync();
        _aliceKem.Dispose();
        _bobKem.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>Reservations through <see cref="KmeSync"/>, recording the last hybrid ciphertext sent.</summary>
    private sealed class SyncNotifier : IReservationNotifier
    {
        public KmeSync? Sync;
        public byte[]? LastCiphertext;

        public ValueTask NotifyAsync(string masterSaeId, string slaveSaeId, IReadOnlyList<ReservedKey> keys, CancellationToken cancellationToken) =>
            NotifyHybridAsync(masterSaeId, slaveSaeId, keys, default, cancellationToken);

        public async ValueTask NotifyHybridAsync(string masterSaeId, string slaveSaeId, IReadOnlyList<ReservedKey> keys, ReadOnlyMemory<byte> ciphertext, CancellationToken cancellationToken)
        {
            if (!ciphertext.IsEmpty) LastCiphertext = ciphertext.ToArray();
            var outcome = await Sync!.ReserveAsync(masterSaeId, slaveSaeId, keys, ciphertext, cancellationToken);
            if (outcome != ReservationOutcome.Recorded) throw new InvalidOperationException($"peer answered {outcome}");
        }
    }

    private sealed class Disposer(Func<ValueTask> dispose) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => dispose();
    }

    private async Task<(KmeLink Link, SyncNotifier AliceToBob, MlKemHybridKeys BobHybrid)> StartAsync(bool hybridAtBob = true)
    {
        var aliceHybrid = new MlKemHybridKeys(_aliceKem.PrivateSeed, _bobKem.EncapsulationKey, new HybridCiphertextStore(Path.Combine(_dir, "alice-hybrid.db")));
        var bobHybrid = new MlKemHybridKeys(_bobKem.PrivateSeed, _aliceKem.EncapsulationKey, new HybridCiphertextStore(Path.Combine(_dir, "bob-hybrid.db")));
        var aliceNotifier = new SyncNotifier();
        var bobNotifier = new SyncNotifier();
        var link = await KmeLink.StartAsync(_certs, Blocks, KeysPerBlock, TestPools.Sqlite(_dir), aliceNotifier,
            aliceHybrid: aliceHybrid, bobHybrid: hybridAtBob ? bobHybrid : null, bobNotifier: bobNotifier);
        var (aliceEnd, bobEnd) = InMemoryClassicalChannel.CreatePair();
        var aliceSync = new KmeSync(aliceEnd, link.AlicePool, NullLogger.Instance, hybrid: aliceHybrid);
        var bobSync = new KmeSync(bobEnd, link.BobPool, NullLogger.Instance, hybrid: hybridAtBob ? bobHybrid : null);
        aliceNotifier.Sync = aliceSync;
        bobNotifier.Sync = bobSync;
        _cleanup.Add(new Disposer(() => { aliceHybrid.Dispose(); bobHybrid.Dispose(); return ValueTask.CompletedTask; }));
        _cleanup.Add(link);
        _cleanup.Add(aliceSync);
        _cleanup.Add(bobSync);
        return (link, aliceNotifier, bobHybrid);
    }

    /// <summary>Every plain QKD key both pools were fed (KmeLink.Feed with seed 5), by ID.</summary>
    private static Dictionary<Guid, byte[]> PlainKeys()
    {
        var random = new Random(5);
        var keys = new Dictionary<Guid, byte[]>();
        for (long b = 0; b < Blocks; b++)
        {
            byte[] bytes = new byte[KeysPerBlock * KmeLink.KeySizeBits / 8];
            random.NextBytes(bytes);
            for (int i = 0; i < KeysPerBlock; i++)
                keys[KeyIds.For(KmeLink.LinkId, b, i)] = bytes.AsSpan(i * 32, 32).ToArray();
        }
        return keys;
    }

    private static async Task<JsonElement> Json(HttpResponseMessage response, HttpStatusCode expected)
    {
        string body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(expected == response.StatusCode, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static List<(Guid Id, byte[] Key)> Keys(JsonElement container) =>
        container.GetProperty("keys").EnumerateArray()
            .Select(k => (Guid.ParseExact(k.GetProperty("key_ID").GetString()!, "D"), Convert.FromBase64String(k.GetProperty("key").GetString()!)))
            .ToList();

    private static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");

    private static StringContent IdsBody(IEnumerable<Guid> ids) =>
        Body(JsonSerializer.Serialize(new { key_IDs = ids.Select(id => new { key_ID = id.ToString() }) }));

    [Fact]
    public async Task Hybrid_keys_are_equal_at_both_ends_differ_from_both_inputs_and_are_delivered_once()
    {
        var (link, notifier, _) = await StartAsync();
        var master = link.Client(link.Alice, "sae-alice-1");
        var slave = link.Client(link.Bob, "sae-bob-1");
        var sent = Keys(await Json(await master.PostAsync("/api/v1/keys/sae-bob-1/enc_keys",
            Body("""{"number": 3, "extension_mandatory": [{"hybrid": "ml-kem-768"}]}"""), Ct), HttpStatusCode.OK));
        Assert.Equal(3, sent.Count);
        byte[] ciphertext = notifier.LastCiphertext!;
        Assert.Equal(1088, ciphertext.Length);

        var received = Keys(await Json(await slave.PostAsync("/api/v1/keys/sae-alice-1/dec_keys", IdsBody(sent.Select(k => k.Id)), Ct), HttpStatusCode.OK));
        Assert.Equal(sent.Select(k => k.Id), received.Select(k => k.Id));
        for (int i = 0; i < sent.Count; i++) Assert.Equal(sent[i].Key, received[i].Key);

        // Neither the QKD key with that ID nor the ML-KEM secret, but exactly the combiner of the two.
        var plain = PlainKeys();
        byte[] secret = new byte[32];
        PostQuantum.MlKem768.Decapsulate(_bobKem.PrivateSeed, ciphertext, secret);
        foreach (var (id, key) in sent)
        {
            Assert.NotEqual(plain[id], key);
            Assert.NotEqual(secret, key);
            Assert.Equal(HybridKeyCombiner.Default.Combine(plain[id], secret,
                new HybridContext(MlKemHybridKeys.Purpose, id, "sae-alice-1", "sae-bob-1", ciphertext), 32), key);
        }
        Assert.Equal(3, sent.Select(k => Convert.ToHexString(k.Key)).Distinct().Count());

        // Once only.
        await Json(await slave.PostAsync("/api/v1/keys/sae-alice-1/dec_keys", IdsBody(sent.Select(k => k.Id)), Ct), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Optional_hybrid_is_served_and_plain_requests_stay_plain()
    {
        var (link, _, _) = await StartAsync();
        var plain = PlainKeys();
        var master = link.Client(link.Alice, "sae-alice-1");
        var slave = link.Client(link.Bob, "sae-bob-1");
        var hybrid = Keys(await Json(await master.PostAsync("/api/v1/keys/sae-bob-1/enc_keys",
            Body("""{"number": 2, "extension_optional": [{"abc_other": 1}, {"hybrid": "ml-kem-768"}]}"""), Ct), HttpStatusCode.OK));
        var ordinary = Keys(await Json(await master.GetAsync("/api/v1/keys/sae-bob-1/enc_keys?number=2", Ct), HttpStatusCode.OK));
        foreach (var (id, key) in hybrid) Assert.NotEqual(plain[id], key);
        foreach (var (id, key) in ordinary) Assert.Equal(plain[id], key);
        var back = Keys(await Json(await slave.PostAsync("/api/v1/keys/sae-alice-1/dec_keys", IdsBody(hybrid.Concat(ordinary).Select(k => k.Id)), Ct), HttpStatusCode.OK));
        Assert.Equal(hybrid.Concat(ordinary).Select(k => k.Key), back.Select(k => k.Key));

        // And the other way: Bob's master SAE, Alice's slave SAE.
        var fromBob = Keys(await Json(await link.Client(link.Bob, "sae-bob-1").PostAsync("/api/v1/keys/sae-alice-1/enc_keys",
            Body("""{"number": 1, "extension_mandatory": [{"hybrid": "ML-KEM-768"}]}"""), Ct), HttpStatusCode.OK));
        var atAlice = Keys(await Json(await link.Client(link.Alice, "sae-alice-1").PostAsync("/api/v1/keys/sae-bob-1/dec_keys", IdsBody(fromBob.Select(k => k.Id)), Ct), HttpStatusCode.OK));
        Assert.Equal(fromBob[0].Key, atAlice[0].Key);
        Assert.NotEqual(plain[fromBob[0].Id], fromBob[0].Key);
    }

    [Theory]
    [InlineData("""{"extension_mandatory": [{"abc_route": "direct"}]}""", "abc_route")]
    [InlineData("""{"extension_mandatory": [{"hybrid": "ml-kem-512"}]}""", "ml-kem-512")]
    [InlineData("""{"extension_mandatory": [{"hybrid": "ml-kem-768"}, {"abc_x": 1}]}""", "abc_x")]
    public async Task Unsupported_mandatory_extensions_are_refused_and_take_no_key(string body, string named)
    {
        var (link, _, _) = await StartAsync();
        long before = link.AlicePool.AvailableAsMaster;
        var error = await Json(await link.Client(link.Alice, "sae-alice-1").PostAsync("/api/v1/keys/sae-bob-1/enc_keys", Body(body), Ct), HttpStatusCode.BadRequest);
        Assert.Contains(named, error.GetProperty("message").GetString());
        Assert.Equal("extension_mandatory", error.GetProperty("details")[0].GetProperty("parameter").GetString());
        Assert.Equal(before, link.AlicePool.AvailableAsMaster);
    }

    [Fact]
    public async Task A_peer_without_hybrid_keys_refuses_the_reservation_and_the_master_hands_nothing_out()
    {
        var (link, _, _) = await StartAsync(hybridAtBob: false);
        var error = await Json(await link.Client(link.Alice, "sae-alice-1").PostAsync("/api/v1/keys/sae-bob-1/enc_keys",
            Body("""{"number": 1, "extension_mandatory": [{"hybrid": "ml-kem-768"}]}"""), Ct), HttpStatusCode.ServiceUnavailable);
        Assert.Contains("not handed out", error.GetProperty("message").GetString());
        // Bob, without the extension, refuses it as mandatory.
        await Json(await link.Client(link.Bob, "sae-bob-1").PostAsync("/api/v1/keys/sae-alice-1/enc_keys",
            Body("""{"number": 1, "extension_mandatory": [{"hybrid": "ml-kem-768"}]}"""), Ct), HttpStatusCode.BadRequest);
    }
}
