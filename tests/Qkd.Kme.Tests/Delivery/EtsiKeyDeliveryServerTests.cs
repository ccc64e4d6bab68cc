using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Qkd.Kme.Delivery;

namespace Qkd.Kme.Tests.Delivery;

/// <summary>
/// The ETSI GS QKD 014 server end to end: real Kestrel on 127.0.0.1 with mutual TLS, HttpClient with generated client
/// certificates, two KMEs whose durable pools (SqliteKeyPool) were fed the same blocks.
/// </summary>
public sealed class EtsiKeyDeliveryServerTests : IClassFixture<EtsiKeyDeliveryServerTests.Certs>
{
    public sealed class Certs : IDisposable
    {
        public TestCertificates Value { get; } = new();

        public void Dispose() => Value.Dispose();
    }

    private readonly TestCertificates _certs;

    public EtsiKeyDeliveryServerTests(Certs certs) => _certs = certs.Value;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Task<KmeLink> StartLink(int blocks = 4, int keysPerBlock = 8, IReservationNotifier? aliceNotifier = null) =>
        KmeLink.StartAsync(_certs, blocks, keysPerBlock, TestPools.Sqlite(_certs.Directory), aliceNotifier);

    private static async Task<JsonElement> Json(HttpResponseMessage response, HttpStatusCode expected)
    {
        string body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(expected == response.StatusCode, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static List<(Guid Id, byte[] Key)> Keys(JsonElement container) =>
        container.GetProperty("keys").EnumerateArray()
            .Select(k => (Guid.ParseExact(k.GetProperty("key_ID").GetString()!, "D"), Convert.FromBase64String(k.GetProperty("key").GetString()!)))
            .ToList();

    private static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");

    private static string KeyIdsBody(IEnumerable<Guid> ids) =>
        JsonSerializer.Serialize(new { key_IDs = ids.Select(id => new { key_ID = id.ToString() }) });

    [Fact]
    public async Task Status_reports_the_spec_fields_for_the_caller_and_slave()
    {
        await using var link = await StartLink(blocks: 4, keysPerBlock: 8);
        var client = link.Client(link.Alice, "sae-alice-1");

        var status = await Json(await client.GetAsync("/api/v1/keys/sae-bob-1/status", Ct), HttpStatusCode.OK);

        Assert.Equal("KME-ALICE", status.GetProperty("source_KME_ID").GetString());
        Assert.Equal("KME-BOB", status.GetProperty("target_KME_ID").GetString());
        Assert.Equal("sae-alice-1", status.GetProperty("master_SAE_ID").GetString());
        Assert.Equal("sae-bob-1", status.GetProperty("slave_SAE_ID").GetString());
        Assert.Equal(256, status.GetProperty("key_size").GetInt32());
        Assert.Equal(16, status.GetProperty("stored_key_count").GetInt64()); // even units of 4 blocks x 8
        Assert.Equal(link.AlicePool.MaxKeyCount, status.GetProperty("max_key_count").GetInt64());
        Assert.Equal(16, status.GetProperty("max_key_per_request").GetInt32());
        Assert.Equal(256, status.GetProperty("max_key_size").GetInt32());
        Assert.Equal(256, status.GetProperty("min_key_size").GetInt32());
        Assert.Equal(0, status.GetProperty("max_SAE_ID_count").GetInt32());
    }

    [Fact]
    public async Task Master_gets_keys_at_Alice_and_slave_gets_the_same_bytes_at_Bob_by_key_ID_GET_and_POST()
    {
        await using var link = await StartLink();
        var master = link.Client(link.Alice, "sae-alice-1");
        var slave = link.Client(link.Bob, "sae-bob-1");

        var one = Keys(await Json(await master.GetAsync("/api/v1/keys/sae-bob-1/enc_keys", Ct), HttpStatusCode.OK));
        var three = Keys(await Json(await master.PostAsync("/api/v1/keys/sae-bob-1/enc_keys",
            Body("""{"number": 3, "size": 256, "extension_optional": [{"abc_max_age": 30000}]}"""), Ct), HttpStatusCode.OK));
        var two = Keys(await Json(await master.GetAsync("/api/v1/keys/sae-bob-1/enc_keys?number=2&size=256", Ct), HttpStatusCode.OK));

        Assert.Single(one);
        Assert.Equal(3, three.Count);
        Assert.Equal(2, two.Count);
        var all = one.Concat(three).Concat(two).ToList();
        Assert.All(all, k => Assert.Equal(32, k.Key.Length));
        Assert.Equal(all.Count, all.Select(k => k.Id).Distinct().Count());
        Assert.Equal(all.Count, all.Select(k => Convert.ToBase64String(k.Key)).Distinct().Count());

        var atBobGet = Keys(await Json(await slave.GetAsync($"/api/v1/keys/sae-alice-1/dec_keys?key_ID={one[0].Id}", Ct), HttpStatusCode.OK));
        var atBobPost = Keys(await Json(await slave.PostAsync("/api/v1/keys/sae-alice-1/dec_keys",
            Body(KeyIdsBody(three.Concat(two).Select(k => k.Id))), Ct), HttpStatusCode.OK));

        Assert.Equal(one[0].Id, atBobGet[0].Id);
        Assert.Equal(one[0].Key, atBobGet[0].Key);
        Assert.Equal(three.Concat(two).Select(k => k.Id), atBobPost.Select(k => k.Id));
        for (int i = 0; i < atBobPost.Count; i++)
            Assert.Equal(all[i + 1].Key, atBobPost[i].Key);
    }

    [Fact]
    public async Task Bob_is_master_of_the_other_half_and_Alice_serves_it_to_her_slave()
    {
        await using var link = await StartLink();
        var bobMaster = link.Client(link.Bob, "sae-bob-2");
        var aliceSlave = link.Client(link.Alice, "sae-alice-3"); // known by certificate thumbprint

        var keys = Keys(await Json(await bobMaster.GetAsync("/api/v1/keys/sae-alice-3/enc_keys?number=4", Ct), HttpStatusCode.OK));
        var same = Keys(await Json(await aliceSlave.PostAsync("/api/v1/keys/sae-bob-2/dec_keys",
            Body(KeyIdsBody(keys.Select(k => k.Id))), Ct), HttpStatusCode.OK));

        Assert.Equal(keys.Select(k => Convert.ToBase64String(k.Key)), same.Select(k => Convert.ToBase64String(k.Key)));
    }

    [Fact]
    public async Task Requests_are_logged_with_path_SAE_status_and_count_but_never_key_material()
    {
        var logs = new CapturingLoggerProvider();
        using var loggerFactory = new Microsoft.Extensions.Logging.LoggerFactory([logs],
            new Microsoft.Extensions.Logging.LoggerFilterOptions { MinLevel = Microsoft.Extensions.Logging.LogLevel.Trace });
        await using var link = await KmeLink.StartAsync(_certs, 4, 8, TestPools.Sqlite(_certs.Directory), loggerFactory: loggerFactory);
        var master = link.Client(link.Alice, "sae-alice-1");
        var slave = link.Client(link.Bob, "sae-bob-1");

        var keys = Keys(await Json(await master.GetAsync("/api/v1/keys/sae-bob-1/enc_keys?number=4", Ct), HttpStatusCode.OK));
        await Json(await slave.PostAsync("/api/v1/keys/sae-alice-1/dec_keys", Body(KeyIdsBody(keys.Select(k => k.Id))), Ct), HttpStatusCode.OK);
        await Json(await slave.PostAsync("/api/v1/keys/sae-alice-1/dec_keys", Body(KeyIdsBody(keys.Select(k => k.Id))), Ct), HttpStatusCode.BadRequest);

        var lines = logs.Lines.ToArray();
        Assert.Contains(lines, l => l.Contains("GET /api/v1/keys/sae-bob-1/enc_keys SAE sae-alice-1: 200, 4 keys"));
        Assert.Contains(lines, l => l.Contains("POST /api/v1/keys/sae-alice-1/dec_keys SAE sae-bob-1: 200, 4 keys"));
        Assert.Contains(lines, l => l.Contains("POST /api/v1/keys/sae-alice-1/dec_keys SAE sae-bob-1: 400"));
        foreach (var (_, key) in keys)
        {
            string base64 = Convert.ToBase64String(key), hex = Convert.ToHexString(key);
            Assert.DoesNotContain(lines, l => l.Contains(base64) || l.Contains(hex, StringComparison.OrdinalIgnoreCase));
        }
    }

    [Fact]
    public async Task The_same_key_ID_asked_twice_is_refused_the_second_time()
    {
        await using var link = await StartLink();
        var master = link.Client(link.Alice, "sae-alice-1");
        var slave = link.Client(link.Bob, "sae-bob-1");
        var key = Keys(await Json(await master.GetAsync("/api/v1/keys/sae-bob-1/enc_keys", Ct), HttpStatusCode.OK))[0];
        string url = $"/api/v1/keys/sae-alice-1/dec_keys?key_ID={key.Id}";

        await Json(await slave.GetAsync(url, Ct), HttpStatusCode.OK);
        var error = await Json(await slave.GetAsync(url, Ct), HttpStatusCode.BadRequest);
        var errorPost = await Json(await slave.PostAsync("/api/v1/keys/sae-alice-1/dec_keys", Body(KeyIdsBody([key.Id])), Ct), HttpStatusCode.BadRequest);

        Assert.Contains("already delivered", error.GetProperty("message").GetString());
        Assert.Equal("key_IDs", error.GetProperty("details")[0].GetProperty("parameter").GetString());
        Assert.Contains("already delivered", errorPost.GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_key_reserved_for_one_slave_is_refused_to_another()
    {
        await using var link = await StartLink();
        var master = link.Client(link.Alice, "sae-alice-1");
        var key = Keys(await Json(await master.GetAsync("/api/v1/keys/sae-bob-1/enc_keys", Ct), HttpStatusCode.OK))[0];

        var other = link.Client(link.Bob, "sae-bob-2");
        await Json(await other.GetAsync($"/api/v1/keys/sae-alice-1/dec_keys?key_ID={key.Id}", Ct), HttpStatusCode.BadRequest);
        var wrongMaster = link.Client(link.Bob, "sae-bob-1");
        await Json(await wrongMaster.GetAsync($"/api/v1/keys/sae-alice-2/dec_keys?key_ID={key.Id}", Ct), HttpStatusCode.BadRequest);
        // Refusals took nothing: the right slave still gets it.
        await Json(await wrongMaster.GetAsync($"/api/v1/keys/sae-alice-1/dec_keys?key_ID={key.Id}", Ct), HttpStatusCode.OK);
    }

    public static TheoryData<string, string, string?, string> BadRequests => new()
    {
        // method, path, body, parameter named in details
        { "GET", "/api/v1/keys/sae-bob-1/enc_keys?size=128", null, "size" },
        { "POST", "/api/v1/keys/sae-bob-1/enc_keys", """{"size": 512}""", "size" },
        { "GET", "/api/v1/keys/sae-bob-1/enc_keys?number=17", null, "number" },
        { "POST", "/api/v1/keys/sae-bob-1/enc_keys", """{"number": 17}""", "number" },
        { "GET", "/api/v1/keys/sae-bob-1/enc_keys?number=0", null, "number" },
        { "GET", "/api/v1/keys/sae-bob-1/enc_keys?number=two", null, "number" },
        { "POST", "/api/v1/keys/sae-bob-1/enc_keys", """{"number": "2"}""", "number" },
        { "POST", "/api/v1/keys/sae-bob-1/enc_keys", """{"number": 1, "additional_slave_SAE_IDs": ["sae-bob-2"]}""", "additional_slave_SAE_IDs" },
        { "POST", "/api/v1/keys/sae-bob-1/enc_keys", """{"number": 1, "extension_mandatory": [{"abc_route_type": "direct"}]}""", "extension_mandatory" },
        { "POST", "/api/v1/keys/sae-bob-1/enc_keys", """{"number": 1""", "body" },
        { "POST", "/api/v1/keys/sae-bob-1/enc_keys", """[1]""", "body" },
        { "GET", "/api/v1/keys/sae-nobody/enc_keys", null, "slave_SAE_ID" },
        { "GET", "/api/v1/keys/sae-alice-2/enc_keys", null, "slave_SAE_ID" },
        { "GET", "/api/v1/keys/sae-nobody/status", null, "slave_SAE_ID" },
        { "GET", "/api/v1/keys/sae-bob-1/dec_keys?key_ID=not-a-uuid", null, "key_ID" },
        { "GET", "/api/v1/keys/sae-bob-1/dec_keys", null, "key_ID" },
        { "GET", "/api/v1/keys/sae-bob-1/dec_keys?key_ID=6f1c2d3e-0000-8000-8000-000000000001", null, "key_IDs" },
        { "POST", "/api/v1/keys/sae-bob-1/dec_keys", """{"key_IDs": [{"key_ID": "xyz"}]}""", "key_ID" },
        { "POST", "/api/v1/keys/sae-bob-1/dec_keys", """{"key_IDs": []}""", "key_IDs" },
        { "POST", "/api/v1/keys/sae-bob-1/dec_keys", """{"keys": []}""", "keys" },               // not a field of Key IDs
        { "POST", "/api/v1/keys/sae-bob-1/dec_keys", """{}""", "key_IDs" },
        { "POST", "/api/v1/keys/sae-bob-1/dec_keys", """{"key_IDs": [{"key_ID": "6f1c2d3e-0000-8000-8000-000000000001"}, {"key_ID": "6f1c2d3e-0000-8000-8000-000000000001"}]}""", "key_IDs" },
        { "GET", "/api/v1/keys/sae-nobody/dec_keys?key_ID=6f1c2d3e-0000-8000-8000-000000000001", null, "master_SAE_ID" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_parameters_get_400_with_message_and_details_and_take_nothing(string method, string path, string? body, string parameter)
    {
        await using var link = await StartLink();
        var client = link.Client(link.Alice, "sae-alice-1");
        long before = link.AlicePool.AvailableAsMaster, heldBefore = link.AlicePool.HeldForPeer;
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = body is null ? null : Body(body) };

        var error = await Json(await client.SendAsync(request, Ct), HttpStatusCode.BadRequest);

        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.Equal(parameter, error.GetProperty("details")[0].GetProperty("parameter").GetString());
        Assert.Equal(before, link.AlicePool.AvailableAsMaster);
        Assert.Equal(heldBefore, link.AlicePool.HeldForPeer);
    }

    [Fact]
    public async Task An_empty_enc_keys_body_asks_for_the_defaults_and_an_oversized_body_is_refused()
    {
        await using var link = await StartLink();
        var client = link.Client(link.Alice, "sae-alice-1");

        var keys = Keys(await Json(await client.PostAsync("/api/v1/keys/sae-bob-1/enc_keys", new ByteArrayContent([]), Ct), HttpStatusCode.OK));
        string huge = KeyIdsBody(Enumerable.Range(0, 6000).Select(_ => Guid.NewGuid()));
        // A client sending a large body asks first (Expect: 100-continue); the server refuses on the declared length
        // without reading the body. Without it the client may still be writing when the refused connection closes,
        // and sees a broken pipe instead of the answer.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/keys/sae-bob-1/dec_keys") { Content = Body(huge) };
        request.Headers.ExpectContinue = true;
        var error = await Json(await client.SendAsync(request, Ct), HttpStatusCode.BadRequest);

        Assert.Single(keys);
        Assert.Equal("body", error.GetProperty("details")[0].GetProperty("parameter").GetString());
    }

    [Fact]
    public async Task An_untrusted_certificate_gets_401_even_with_the_CN_of_a_known_SAE()
    {
        await using var link = await StartLink();
        using var rogue = _certs.Untrusted("sae-alice-1");
        var client = link.Client(link.Alice, rogue);

        var error = await Json(await client.GetAsync("/api/v1/keys/sae-bob-1/enc_keys", Ct), HttpStatusCode.Unauthorized);

        Assert.Contains("not trusted", error.GetProperty("message").GetString());
        Assert.Equal(16, link.AlicePool.AvailableAsMaster); // nothing taken: 4 blocks x 8 keys, Alice masters half
    }

    [Fact]
    public async Task A_trusted_certificate_of_no_known_SAE_gets_401()
    {
        await using var link = await StartLink();
        using var stranger = _certs.Client("sae-stranger");
        var client = link.Client(link.Alice, stranger);

        var error = await Json(await client.GetAsync("/api/v1/keys/sae-bob-1/status", Ct), HttpStatusCode.Unauthorized);

        Assert.Contains("does not identify an SAE", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task An_SAE_of_the_peer_KME_gets_401_on_every_endpoint_here()
    {
        await using var link = await StartLink();
        var bobsSae = link.Client(link.Alice, "sae-bob-1");
        long before = link.AlicePool.AvailableAsMaster;

        foreach (string path in new[] { "/api/v1/keys/sae-alice-1/status", "/api/v1/keys/sae-alice-1/enc_keys", "/api/v1/keys/sae-alice-1/dec_keys?key_ID=6f1c2d3e-0000-8000-8000-000000000001" })
        {
            var error = await Json(await bobsSae.GetAsync(path, Ct), HttpStatusCode.Unauthorized);
            Assert.Contains("attached to KME 'KME-BOB'", error.GetProperty("message").GetString());
        }
        Assert.Equal(before, link.AlicePool.AvailableAsMaster);
    }

    [Fact]
    public async Task Exhausting_the_pool_gets_503_and_takes_nothing()
    {
        await using var link = await StartLink(blocks: 1, keysPerBlock: 8); // Alice masters 4 keys
        var master = link.Client(link.Alice, "sae-alice-1");

        var first = Keys(await Json(await master.GetAsync("/api/v1/keys/sae-bob-1/enc_keys?number=3", Ct), HttpStatusCode.OK));
        var error = await Json(await master.GetAsync("/api/v1/keys/sae-bob-1/enc_keys?number=2", Ct), HttpStatusCode.ServiceUnavailable);
        var last = Keys(await Json(await master.GetAsync("/api/v1/keys/sae-bob-1/enc_keys", Ct), HttpStatusCode.OK));
        var empty = await Json(await master.PostAsync("/api/v1/keys/sae-bob-1/enc_keys", Body("{}"), Ct), HttpStatusCode.ServiceUnavailable);

        Assert.Equal(3, first.Count);
        Assert.Single(last);
        Assert.Equal("2", error.GetProperty("details")[0].GetProperty("requested").GetString());
        Assert.Equal("1", error.GetProperty("details")[0].GetProperty("available").GetString());
        Assert.Contains("0 available", empty.GetProperty("message").GetString());
        var status = await Json(await master.GetAsync("/api/v1/keys/sae-bob-1/status", Ct), HttpStatusCode.OK);
        Assert.Equal(0, status.GetProperty("stored_key_count").GetInt64());
    }

    [Fact]
    public async Task An_unreachable_peer_gets_503_and_the_keys_are_never_delivered()
    {
        await using var link = await StartLink(aliceNotifier: new UnreachablePeerNotifier());
        var master = link.Client(link.Alice, "sae-alice-1");
        long before = link.AlicePool.AvailableAsMaster;

        var error = await Json(await master.GetAsync("/api/v1/keys/sae-bob-1/enc_keys?number=2", Ct), HttpStatusCode.ServiceUnavailable);

        Assert.Contains("could not be confirmed by the peer KME", error.GetProperty("message").GetString());
        Assert.Equal(before - 2, link.AlicePool.AvailableAsMaster); // taken and not handed out: never handed out twice
    }

    [Fact]
    public async Task A_KME_link_known_to_be_down_gets_503_before_any_key_is_taken()
    {
        await using var link = await StartLink(aliceNotifier: new LinkDownNotifier());
        var master = link.Client(link.Alice, "sae-alice-1");
        long before = link.AlicePool.AvailableAsMaster;

        var error = await Json(await master.GetAsync("/api/v1/keys/sae-bob-1/enc_keys?number=2", Ct), HttpStatusCode.ServiceUnavailable);

        Assert.Contains("KME link to the peer KME is down", error.GetProperty("message").GetString());
        Assert.Equal(before, link.AlicePool.AvailableAsMaster); // a client retrying through an outage uses no key up
    }

    [Fact]
    public async Task Wrong_method_and_unknown_path_are_refused_with_an_error_object()
    {
        await using var link = await StartLink();
        var client = link.Client(link.Alice, "sae-alice-1");

        await Json(await client.PostAsync("/api/v1/keys/sae-bob-1/status", Body("{}"), Ct), HttpStatusCode.MethodNotAllowed);
        await Json(await client.DeleteAsync("/api/v1/keys/sae-bob-1/enc_keys", Ct), HttpStatusCode.MethodNotAllowed);
        await Json(await client.GetAsync("/api/v1/keys/sae-bob-1/other", Ct), HttpStatusCode.NotFound);
        await Json(await client.GetAsync("/", Ct), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Works_over_HTTP2()
    {
        await using var link = await StartLink();
        var master = link.Client(link.Alice, link.SaeCertificates["sae-alice-2"], HttpVersion.Version20);
        var slave = link.Client(link.Bob, link.SaeCertificates["sae-bob-2"], HttpVersion.Version20);

        using var response = await master.GetAsync("/api/v1/keys/sae-bob-2/enc_keys?number=2", Ct);
        Assert.Equal(HttpVersion.Version20, response.Version);
        var keys = Keys(await Json(response, HttpStatusCode.OK));
        var same = Keys(await Json(await slave.PostAsync("/api/v1/keys/sae-alice-2/dec_keys", Body(KeyIdsBody(keys.Select(k => k.Id))), Ct), HttpStatusCode.OK));

        Assert.Equal(keys.Select(k => k.Key), same.Select(k => k.Key));
    }

    [Fact]
    public async Task Concurrent_SAEs_at_both_KMEs_never_get_the_same_key_twice()
    {
        await using var link = await StartLink(blocks: 20, keysPerBlock: 16); // 160 keys mastered by each KME
        var jobs = new List<Task<List<(Guid Id, byte[] Key)>>>();
        foreach (string master in KmeLink.AliceSaeIds)
            jobs.Add(Drain(link.Client(link.Alice, master), "sae-bob-1"));
        foreach (string master in KmeLink.BobSaeIds)
            jobs.Add(Drain(link.Client(link.Bob, master), "sae-alice-1"));

        var got = (await Task.WhenAll(jobs)).SelectMany(k => k).ToList();

        Assert.Equal(320, got.Count); // every key handed out exactly once
        Assert.Equal(got.Count, got.Select(k => k.Id).Distinct().Count());
        Assert.Equal(got.Count, got.Select(k => Convert.ToBase64String(k.Key)).Distinct().Count());
        Assert.Equal(0, link.AlicePool.AvailableAsMaster);
        Assert.Equal(0, link.BobPool.AvailableAsMaster);

        // Each slave redeems its keys 16 per request, several requests at once, and gets the same bytes once each.
        var byId = got.ToDictionary(k => k.Id, k => k.Key);
        var redeemAtBob = Redeem(link.Client(link.Bob, "sae-bob-1"), jobs.Take(3).SelectMany(j => j.Result).ToList());
        var redeemAtAlice = Redeem(link.Client(link.Alice, "sae-alice-1"), jobs.Skip(3).SelectMany(j => j.Result).ToList());
        var redeemed = (await Task.WhenAll(redeemAtBob, redeemAtAlice)).SelectMany(k => k).ToList();
        Assert.Equal(320, redeemed.Count);
        Assert.All(redeemed, k => Assert.Equal(byId[k.Id], k.Key));
        Assert.Equal(0, link.AlicePool.HeldForPeer);
        Assert.Equal(0, link.BobPool.HeldForPeer);

        async Task<List<(Guid Id, byte[] Key)>> Redeem(HttpClient slave, List<(Guid Id, byte[] Key)> keys)
        {
            // Which master took each key is in the drain order: group by the job that produced it.
            var parts = new List<Task<List<(Guid Id, byte[] Key)>>>();
            foreach (var (job, master) in jobs.Zip(KmeLink.AliceSaeIds.Concat(KmeLink.BobSaeIds)))
            {
                var mine = job.Result.Where(k => keys.Contains(k)).ToList();
                foreach (var chunk in mine.Chunk(16))
                    parts.Add(Post(master, chunk));
            }
            return (await Task.WhenAll(parts)).SelectMany(k => k).ToList();

            async Task<List<(Guid Id, byte[] Key)>> Post(string master, (Guid Id, byte[] Key)[] chunk) =>
                Keys(await Json(await slave.PostAsync($"/api/v1/keys/{master}/dec_keys", Body(KeyIdsBody(chunk.Select(k => k.Id))), Ct), HttpStatusCode.OK));
        }

        async Task<List<(Guid, byte[])>> Drain(HttpClient client, string slave)
        {
            var mine = new List<(Guid, byte[])>();
            var inFlight = Enumerable.Range(0, 4).Select(async _ =>
            {
                var taken = new List<(Guid, byte[])>();
                while (true)
                {
                    using var response = await client.GetAsync($"/api/v1/keys/{slave}/enc_keys?number=3", Ct);
                    if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                    {
                        // Fewer than 3 left: take the remainder one by one.
                        using var single = await client.GetAsync($"/api/v1/keys/{slave}/enc_keys", Ct);
                        if (single.StatusCode == HttpStatusCode.ServiceUnavailable) return taken;
                        taken.AddRange(Keys(await Json(single, HttpStatusCode.OK)));
                        continue;
                    }
                    taken.AddRange(Keys(await Json(response, HttpStatusCode.OK)));
                }
            });
            foreach (var part in await Task.WhenAll(inFlight)) mine.AddRange(part);
            return mine;
        }
    }
}
