using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Qkd.Kme.Pool;

namespace Qkd.Kme.Delivery;

/// <summary>
/// The ETSI GS QKD 014 v1.1.1 endpoints of one KME: Get status, Get key (enc_keys) and Get key with key IDs
/// (dec_keys), GET and POST, under /api/v1/keys/{SAE_ID}/. The caller is the SAE its client certificate names.
/// Every response is written by hand into a buffer that is zeroised after it is sent; keys handed out are zeroised
/// too. Logs say path, SAE, counts and status, never key material.
/// </summary>
public sealed partial class KeyDeliveryHandler
{
    private const string Prefix = "/api/v1/keys/";
    private readonly ConditionalWeakTable<X509Certificate2, Authenticated> _authenticated = new();

    /// <summary>An SAE authenticated on a connection, under the revocation lists of that moment.</summary>
    private sealed record Authenticated(AuthenticatedSae Sae, int RevocationVersion);

    private readonly KeyDeliveryOptions _options;
    private readonly IKeyDeliverySource _source;
    private readonly SaeAuthenticator _authenticator;
    private readonly ILogger _logger;
    private readonly CancellationToken _stopping;
    private readonly IKeyDeliveryAudit? _audit;

    /// <summary>A link's KME: keys from its pool, reserved at the peer KME (<see cref="PoolKeyDeliverySource"/>).</summary>
    public KeyDeliveryHandler(KeyDeliveryOptions options, IKeyPool pool, IReservationNotifier notifier,
        SaeAuthenticator authenticator, ILogger logger, CancellationToken stopping = default, KeyDeliveryMetrics? metrics = null,
        IKeyDeliveryAudit? audit = null)
        : this(options, new PoolKeyDeliverySource(options, pool, notifier, logger, metrics), authenticator, logger, stopping, audit)
    {
    }

    /// <summary>Keys from any source (a network node's relay, for one).</summary>
    public KeyDeliveryHandler(KeyDeliveryOptions options, IKeyDeliverySource source, SaeAuthenticator authenticator, ILogger logger,
        CancellationToken stopping = default, IKeyDeliveryAudit? audit = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        _audit = audit;
        _options = options.Validate();
        _source = source;
        _authenticator = authenticator;
        _logger = logger;
        _stopping = stopping;
        if (source.KeySizeBits <= 0 || source.KeySizeBits % 8 != 0)
            throw new ArgumentException($"Key size {source.KeySizeBits} bits is not a positive multiple of 8: ETSI keys are whole bytes.", nameof(source));
        if (source.MaxSaeIdCount is < 0 or > 255)
            throw new ArgumentException($"max_SAE_ID_count {source.MaxSaeIdCount} is outside 0..255", nameof(source));
    }

    public async Task HandleAsync(HttpContext context)
    {
        string path = context.Request.Path.Value ?? "";
        string method = context.Request.Method;
        AuthenticatedSae? caller = null;
        try
        {
            caller = Authenticate(context);
            if (caller.Attachment != SaeAttachment.Local)
                throw KeyDeliveryException.Unauthorized(
                    $"SAE '{caller.SaeId}' is attached to KME '{_source.KmeIdOf(caller.SaeId)}', not to this KME '{_options.KmeId}'");
            var (saeId, operation) = SplitPath(path);
            bool get = HttpMethods.IsGet(method), post = HttpMethods.IsPost(method);
            if (!get && !(post && operation != "status"))
                throw new KeyDeliveryException(405, $"Method not allowed: {method} {operation}");
            switch (operation)
            {
                case "status":
                    await StatusAsync(context, caller, saeId);
                    break;
                case "enc_keys":
                    await EncKeysAsync(context, caller, saeId, get);
                    break;
                case "dec_keys":
                    await DecKeysAsync(context, caller, saeId, get);
                    break;
            }
        }
        catch (KeyDeliveryException e)
        {
            if (e.StatusCode >= 500)
                LogUnavailable(method, path, caller?.SaeId ?? "-", e.StatusCode, e.Message);
            else
                LogRefused(method, path, caller?.SaeId ?? "-", e.StatusCode, e.Message);
            await WriteAsync(context, e.StatusCode, 256, w => EtsiJson.WriteError(w, e));
        }
        catch (Exception e) when (e is not OperationCanceledException && !context.Response.HasStarted)
        {
            // A store failure (disk, database) is the KME's problem: ETSI's server-side error is 503.
            LogFailed(e, method, path, caller?.SaeId ?? "-");
            var error = KeyDeliveryException.Unavailable("the KME failed to serve the request");
            await WriteAsync(context, 503, 256, w => EtsiJson.WriteError(w, error));
        }
    }

    /// <summary>Splits /api/v1/keys/{SAE_ID}/{operation}; anything else is a 404.</summary>
    private static (string SaeId, string Operation) SplitPath(string path)
    {
        if (path.StartsWith(Prefix, StringComparison.Ordinal))
        {
            string rest = path[Prefix.Length..];
            int slash = rest.IndexOf('/');
            if (slash > 0 && rest.IndexOf('/', slash + 1) < 0)
            {
                string operation = rest[(slash + 1)..];
                if (operation is "status" or "enc_keys" or "dec_keys")
                    return (rest[..slash], operation);
            }
        }
        throw new KeyDeliveryException(404, "Not found: the API is /api/v1/keys/{SAE_ID}/status|enc_keys|dec_keys");
    }

    private AuthenticatedSae Authenticate(HttpContext context)
    {
        // Kestrel keeps one certificate object per TLS connection and never renegotiates on it, so the chain is built
        // once per connection; the table holds no connection alive. Expiry is rechecked on every request, and the whole
        // check again once the revocation lists have changed.
        var certificate = context.Connection.ClientCertificate;
        if (certificate is not null && _authenticated.TryGetValue(certificate, out var cached) && certificate.NotAfter > DateTime.Now
            && cached.RevocationVersion == _authenticator.RevocationVersion)
            return cached.Sae;
        int version = _authenticator.RevocationVersion;
        var sae = _authenticator.Authenticate(certificate);
        _authenticated.AddOrUpdate(certificate!, new Authenticated(sae, version));
        return sae;
    }

    /// <summary>The path's SAE must be attached to the peer (enc_keys: the slave; dec_keys: the master).</summary>
    private void RequirePeerSae(string parameter, string saeId)
    {
        switch (_authenticator.AttachmentOf(saeId))
        {
            case null:
                throw KeyDeliveryException.BadParameter(parameter, $"{parameter} '{saeId}' is not an SAE known to this KME");
            case SaeAttachment.Local:
                throw KeyDeliveryException.BadParameter(parameter,
                    $"{parameter} '{saeId}' is attached to this KME '{_options.KmeId}'; keys are shared with SAEs attached to other KMEs");
        }
    }

    private async Task StatusAsync(HttpContext context, AuthenticatedSae caller, string slaveSaeId)
    {
        RequirePeerSae("slave_SAE_ID", slaveSaeId);
        var (stored, max) = _source.KeyCounts(caller.SaeId, slaveSaeId);
        await WriteAsync(context, 200, 512, w => EtsiJson.WriteStatus(w, _options.KmeId, _source.KmeIdOf(slaveSaeId), caller.SaeId,
            slaveSaeId, _source.KeySizeBits, stored, max, _options.MaxKeyPerRequest, _source.MaxSaeIdCount));
        LogServed(context.Request.Method, context.Request.Path.Value!, caller.SaeId, 200, 0);
    }

    private async Task EncKeysAsync(HttpContext context, AuthenticatedSae caller, string slaveSaeId, bool get)
    {
        RequirePeerSae("slave_SAE_ID", slaveSaeId);
        KeyRequest request = get
            ? new KeyRequest(EtsiRequests.ParseQueryInt("number", context.Request.Query["number"]),
                EtsiRequests.ParseQueryInt("size", context.Request.Query["size"]), [], [])
            : EtsiRequests.ParseKeyRequest(await ReadBodyAsync(context));
        int number = request.Number ?? 1;
        int size = request.Size ?? _source.KeySizeBits;
        if (number < 1)
            throw KeyDeliveryException.BadParameter("number", $"number {number} must be at least 1");
        if (number > _options.MaxKeyPerRequest)
            throw KeyDeliveryException.BadParameter("number", $"number {number} exceeds max_key_per_request {_options.MaxKeyPerRequest}");
        if (size != _source.KeySizeBits)
            throw KeyDeliveryException.BadParameter("size",
                $"size {size} is not supported: this KME delivers keys of {_source.KeySizeBits} bits (min_key_size = max_key_size = {_source.KeySizeBits})");
        var slaves = SlavesOf(slaveSaeId, request.AdditionalSlaveSaeIds);
        var hybrid = HybridRequested(request);

        IReadOnlyList<DeliveredKey> keys = await _source.TakeAsMasterAsync(caller.SaeId, slaves, number, hybrid, _stopping);
        try
        {
            if (_audit is { } audit)
            {
                // One record per slave SAE a multicast shares the keys with.
                var ids = KeyIdsOf(keys);
                foreach (string slave in slaves) audit.KeysDelivered("enc_keys", caller.SaeId, slave, ids);
            }
            int keyBytes = _source.KeySizeBits / 8;
            await WriteAsync(context, 200, EtsiJson.KeyContainerSize(keys.Count, keyBytes), w => EtsiJson.WriteKeyContainer(w, keys));
            LogServed(context.Request.Method, context.Request.Path.Value!, caller.SaeId, 200, keys.Count);
        }
        finally
        {
            foreach (var key in keys)
                CryptographicOperations.ZeroMemory(key.Key);
        }
    }

    /// <summary>
    /// The path's slave, then the request's additional_slave_SAE_IDs (ETSI multicast, up to max_SAE_ID_count): each
    /// attached to another KME, none twice. Checked before any key is made or taken.
    /// </summary>
    private List<string> SlavesOf(string slaveSaeId, IReadOnlyList<string> additional)
    {
        if (additional.Count > _source.MaxSaeIdCount)
            throw KeyDeliveryException.BadParameter("additional_slave_SAE_IDs", _source.MaxSaeIdCount == 0
                ? $"{additional.Count} additional slave SAEs asked, max_SAE_ID_count is 0 (no key multicast)"
                : $"{additional.Count} additional slave SAEs asked, max_SAE_ID_count is {_source.MaxSaeIdCount}");
        var slaves = new List<string>(1 + additional.Count) { slaveSaeId };
        foreach (string extra in additional)
        {
            RequirePeerSae("additional_slave_SAE_IDs", extra);
            if (slaves.Contains(extra, StringComparer.Ordinal))
                throw KeyDeliveryException.BadParameter("additional_slave_SAE_IDs", $"additional_slave_SAE_IDs names '{extra}' twice (or the slave_SAE_ID again)");
            slaves.Add(extra);
        }
        return slaves;
    }

    private async Task DecKeysAsync(HttpContext context, AuthenticatedSae caller, string masterSaeId, bool get)
    {
        RequirePeerSae("master_SAE_ID", masterSaeId);
        IReadOnlyList<Guid> ids;
        if (get)
        {
            var values = context.Request.Query["key_ID"];
            if (values.Count == 0)
                throw KeyDeliveryException.BadParameter("key_ID", "key_ID is missing: GET dec_keys?key_ID={UUID}");
            ids = values.Select(v => EtsiRequests.ParseKeyId(v ?? "")).ToArray();
        }
        else
        {
            ids = EtsiRequests.ParseKeyIds(await ReadBodyAsync(context));
        }
        if (ids.Count == 0)
            throw KeyDeliveryException.BadParameter("key_IDs", "key_IDs is empty");
        if (ids.Count > _options.MaxKeyPerRequest)
            throw KeyDeliveryException.BadParameter("key_IDs", $"{ids.Count} key_IDs exceed max_key_per_request {_options.MaxKeyPerRequest}");
        if (ids.Distinct().Count() != ids.Count)
            throw KeyDeliveryException.BadParameter("key_IDs", "a key_ID appears twice in the request");

        IReadOnlyList<DeliveredKey> keys = await _source.TakeAsSlaveAsync(masterSaeId, caller.SaeId, ids);
        try
        {
            _audit?.KeysDelivered("dec_keys", masterSaeId, caller.SaeId, KeyIdsOf(keys));
            int keyBytes = _source.KeySizeBits / 8;
            await WriteAsync(context, 200, EtsiJson.KeyContainerSize(keys.Count, keyBytes), w => EtsiJson.WriteKeyContainer(w, keys));
            LogServed(context.Request.Method, context.Request.Path.Value!, caller.SaeId, 200, keys.Count);
        }
        finally
        {
            foreach (var key in keys)
                CryptographicOperations.ZeroMemory(key.Key);
        }
    }

    private static Guid[] KeyIdsOf(IReadOnlyList<DeliveredKey> keys)
    {
        var ids = new Guid[keys.Count];
        for (int i = 0; i < ids.Length; i++) ids[i] = keys[i].Id;
        return ids;
    }

    /// <summary>
    /// The hybrid service when the request asks for hybrid keys, else null. extension_mandatory: "hybrid" with the
    /// algorithm this KME serves is honoured; any other mandatory extension, or hybrid on a KME without it or with
    /// another algorithm, is a 400 naming it (ETSI: a KME that cannot handle a mandatory extension returns an error).
    /// extension_optional: "hybrid" is honoured when available; everything else there is ignored.
    /// </summary>
    private Hybrid.IHybridKeys? HybridRequested(KeyRequest request)
    {
        var service = _options.HybridKeys;
        bool wanted = false;
        foreach (var (name, value) in request.MandatoryExtensions)
        {
            if (name != Hybrid.IHybridKeys.ExtensionName)
                throw KeyDeliveryException.BadParameter("extension_mandatory", $"mandatory extension '{Truncate(name)}' is not supported (this KME knows: hybrid)");
            if (service is null)
                throw KeyDeliveryException.BadParameter("extension_mandatory", "mandatory extension 'hybrid' is not enabled on this KME (node config keyDelivery.hybrid)");
            if (!string.Equals(value, service.Algorithm, StringComparison.OrdinalIgnoreCase))
                throw KeyDeliveryException.BadParameter("extension_mandatory", $"hybrid '{Truncate(value)}' is not supported: this KME combines with '{service.Algorithm}'");
            wanted = true;
        }
        foreach (var (name, value) in request.OptionalExtensions ?? [])
            if (name == Hybrid.IHybridKeys.ExtensionName && service is not null && string.Equals(value, service.Algorithm, StringComparison.OrdinalIgnoreCase))
                wanted = true;
        return wanted ? service : null;
    }

    private static string Truncate(string text) => text.Length <= 64 ? text : text[..64] + "...";

    private async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpContext context)
    {
        RequireJsonContentType(context.Request);
        // Bodies carry only IDs and counts, never key material, so they need no zeroising.
        PipeReader reader = context.Request.BodyReader;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await reader.ReadAsync(context.RequestAborted);
            }
            catch (BadHttpRequestException e)
            {
                // Kestrel's own limit (a declared Content-Length over MaxRequestBodyBytes) is the client's fault too.
                throw KeyDeliveryException.BadParameter("body", $"the request body was refused: {e.Message}");
            }
            if (result.Buffer.Length > _options.MaxRequestBodyBytes)
            {
                reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                throw KeyDeliveryException.BadParameter("body", $"the request body exceeds {_options.MaxRequestBodyBytes} bytes");
            }
            if (result.IsCompleted)
            {
                byte[] body = result.Buffer.ToArray();
                reader.AdvanceTo(result.Buffer.End);
                return body;
            }
            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    /// <summary>
    /// A POST body must be declared application/json (charset, if given, UTF-8); a POST without a body and without a
    /// Content-Type asks for the defaults. Anything else is a 400 naming Content-Type, before the body is read.
    /// </summary>
    private static void RequireJsonContentType(HttpRequest request)
    {
        string? contentType = request.ContentType;
        if (contentType is null)
        {
            if (request.ContentLength is 0 || (request.ContentLength is null && !request.Headers.TransferEncoding.Any()))
                return;
            throw KeyDeliveryException.BadParameter("Content-Type", "the request has a body but no Content-Type: it must be application/json");
        }
        if (!Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var mediaType)
            || !mediaType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (mediaType.Charset.HasValue && !mediaType.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)))
        {
            string shown = contentType.Length <= 64 ? contentType : contentType[..64] + "...";
            throw KeyDeliveryException.BadParameter("Content-Type", $"Content-Type '{shown}' is not JSON: the request body must be application/json (UTF-8)");
        }
    }

    private static async Task WriteAsync(HttpContext context, int status, int sizeHint, Action<Utf8JsonWriter> write)
    {
        using var buffer = new ZeroingBufferWriter(sizeHint);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true }))
            write(writer);
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json";
        response.ContentLength = buffer.WrittenMemory.Length;
        // Copied into Kestrel's output pipe; Kestrel sends headers and body together when the request ends.
        response.BodyWriter.Write(buffer.WrittenMemory.Span);
    }

    // Debug: a deployment serves tens of thousands of requests a second, and a line each would be most of the work
    // (the pool's delivered_as_master / delivered_as_slave metrics count them). Refusals and failures stay visible.
    [LoggerMessage(Level = LogLevel.Debug, Message = "{Method} {Path} SAE {SaeId}: {Status}, {KeyCount} keys")]
    private partial void LogServed(string method, string path, string saeId, int status, int keyCount);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Method} {Path} SAE {SaeId}: {Status} {Reason}")]
    private partial void LogRefused(string method, string path, string saeId, int status, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} {Path} SAE {SaeId}: {Status} {Reason}")]
    private partial void LogUnavailable(string method, string path, string saeId, int status, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Method} {Path} SAE {SaeId}: 503, the KME failed")]
    private partial void LogFailed(Exception exception, string method, string path, string saeId);

}
