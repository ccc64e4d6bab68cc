using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Qkd.Kme.Tests.Delivery;

/// <summary>
/// POST bodies are read strictly (real Kestrel, mutual TLS): a field the spec does not define, a field given twice, or a
/// body that is not declared JSON is a 400 naming it, and nothing is taken from the pool.
/// </summary>
public sealed class EtsiRequestStrictnessTests : IClassFixture<EtsiRequestStrictnessTests.Certs>
{
    public sealed class Certs : IDisposable
    {
        public TestCertificates Value { get; } = new();

        public void Dispose() => Value.Dispose();
    }

    private readonly TestCertificates _certs;

    public EtsiRequestStrictnessTests(Certs certs) => _certs = certs.Value;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<(HttpStatusCode Status, string Message, string? Parameter)> Send(HttpClient client, string path, string body, string? contentType)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        if (contentType is not null) content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        var response = await client.PostAsync(path, content, Ct);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;
        string message = json.TryGetProperty("message", out var m) ? m.GetString()! : "";
        string? parameter = json.TryGetProperty("details", out var d) ? d[0].GetProperty("parameter").GetString() : null;
        return (response.StatusCode, message, parameter);
    }

    [Theory]
    [InlineData("""{"number": 1, "additional_slave_SAE_ID": ["sae-bob-2"]}""", "additional_slave_SAE_ID")]
    [InlineData("""{"Number": 2}""", "Number")]
    [InlineData("""{"number": 1, "number": 3}""", "number")]
    [InlineData("""{"size": 256, "extension_madatory": [{"x": 1}]}""", "extension_madatory")]
    public async Task An_enc_keys_body_with_an_unknown_or_repeated_field_is_refused_naming_it(string body, string field)
    {
        await using var link = await KmeLink.StartAsync(_certs, blocks: 2, keysPerBlock: 8);
        var client = link.Client(link.Alice, "sae-alice-1");
        long before = link.AlicePool.AvailableAsMaster;

        var (status, message, parameter) = await Send(client, "/api/v1/keys/sae-bob-1/enc_keys", body, "application/json");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(field, parameter);
        Assert.Contains($"'{field}'", message);
        Assert.Equal(before, link.AlicePool.AvailableAsMaster);
    }

    [Fact]
    public async Task A_dec_keys_body_with_an_unknown_field_at_either_level_is_refused_and_the_spec_extensions_are_accepted()
    {
        await using var link = await KmeLink.StartAsync(_certs, blocks: 2, keysPerBlock: 8);
        var master = link.Client(link.Alice, "sae-alice-1");
        var slave = link.Client(link.Bob, "sae-bob-1");
        var enc = JsonDocument.Parse(await (await master.GetAsync("/api/v1/keys/sae-bob-1/enc_keys", Ct)).Content.ReadAsStringAsync(Ct));
        string id = enc.RootElement.GetProperty("keys")[0].GetProperty("key_ID").GetString()!;

        var outer = await Send(slave, "/api/v1/keys/sae-alice-1/dec_keys", $$"""{"key_IDs": [{"key_ID": "{{id}}"}], "keys": []}""", "application/json");
        Assert.Equal((HttpStatusCode.BadRequest, "keys"), (outer.Status, outer.Parameter));
        var inner = await Send(slave, "/api/v1/keys/sae-alice-1/dec_keys", $$"""{"key_IDs": [{"key_ID": "{{id}}", "keyID": "x"}]}""", "application/json");
        Assert.Equal((HttpStatusCode.BadRequest, "keyID"), (inner.Status, inner.Parameter));

        var ok = await Send(slave, "/api/v1/keys/sae-alice-1/dec_keys",
            $$$"""{"key_IDs": [{"key_ID": "{{{id}}}", "key_ID_extension": {"a": 1}}], "key_IDs_extension": {"b": 2}}""", "application/json; charset=utf-8");
        Assert.Equal(HttpStatusCode.OK, ok.Status);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("application/json; charset=utf-16")]
    [InlineData(null)]
    public async Task A_body_not_declared_as_JSON_is_refused_naming_Content_Type(string? contentType)
    {
        await using var link = await KmeLink.StartAsync(_certs, blocks: 2, keysPerBlock: 8);
        var client = link.Client(link.Alice, "sae-alice-1");
        long before = link.AlicePool.AvailableAsMaster;

        var (status, message, parameter) = await Send(client, "/api/v1/keys/sae-bob-1/enc_keys", """{"number": 1}""", contentType);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("Content-Type", parameter);
        Assert.Contains("application/json", message);
        Assert.Equal(before, link.AlicePool.AvailableAsMaster);
    }
}
