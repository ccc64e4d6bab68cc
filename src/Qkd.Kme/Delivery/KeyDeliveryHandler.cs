using System.Buffers;
using System.Diagnostics;
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
    private readonly IKeyPool _pool;
    private readonly IReservationNotifier _notifier;
    private readonly SaeAuthenticator _authenticator;
    private readonly ILogger _logger;
    private readonly CancellationToken _stopping;
    private readonly KeyDeliveryMetrics? _metrics;
    private readonly IKeyDeliveryAudit? _audit;

    public KeyDeliveryHandler(KeyDeliveryOptions options, IKeyPool pool, IReservationNotifier notifier,
        SaeAuthenticator authenticator, ILogger logger, CancellationToken stopping = default, KeyDeliveryMetrics? metrics = null,
        IKeyDeliveryAudit? audit = null)
    {
        _metrics = metrics;
        _audit = audit;
        _options = options.Validate();
        _pool = pool;
        _notifier = notifier;
        _authenticator = authenticator;
        _logger = logger;
        _stopping = stopping;
        if (pool.KeySizeBits <= 0 || pool.KeySizeBits % 8 != 0)
            throw new ArgumentException($"Pool key size {pool.KeySizeBits} bits is not a positive multiple of 8: ETSI keys are whole bytes.", nameof(pool));
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
                    $"SAE '{caller.SaeId}' is attached to KME '{_options.PeerKmeId}', not to this KME '{_options.KmeId}'");
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
                    $"{parameter} '{saeId}' is attached to this KME '{_options.KmeId}'; keys are shared with SAEs of the peer KME '{_options.PeerKmeId}'");
        }
    }

    private async Task StatusAsync(HttpContext context, AuthenticatedSae caller, string slaveSaeId)
    {
        RequirePeerSae("slave_SAE_ID", slaveSaeId);
        long stored = _pool.AvailableAsMaster, max = _pool.MaxKeyCount;
        await WriteAsync(context, 200, 512, w => EtsiJson.WriteStatus(w, _options.KmeId, _options.PeerKmeId, caller.SaeId,
            slaveSaeId, _pool.KeySizeBits, stored, max, _options.MaxKeyPerRequest, _options.MaxSaeIdCount));
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
        int size = request.Size ?? _pool.KeySizeBits;
        if (number < 1)
            throw KeyDeliveryException.BadParameter("number", $"number {number} must be at least 1");
        if (number > _options.MaxKeyPerRequest)
            throw KeyDeliveryException.BadParameter("number", $"number {number} exceeds max_key_per_request {_options.MaxKeyPerRequest}");
        if (size != _pool.KeySizeBits)
            throw KeyDeliveryException.BadParameter("size",
                $"size {size} is not supported: this KME delivers keys of {_pool.KeySizeBits} bits (min_key_size = max_key_size = {_pool.KeySizeBits})");
        if (request.AdditionalSlaveSaeIds.Count > _options.MaxSaeIdCount)
            throw KeyDeliveryException.BadParameter("additional_slave_SAE_IDs",
                $"{request.AdditionalSlaveSaeIds.Count} additional slave SAEs asked, max_SAE_ID_count is {_options.MaxSaeIdCount} (no key multicast)");
        var hybrid = HybridRequested(request);

        // Checked before any key is taken: a client retrying through a link outage must not use keys up.
        if (!_notifier.IsPeerReachable)
            throw KeyDeliveryException.Unavailable("the KME link to the peer KME is down (it reconnects by itself); no key was taken, try again");

        IReadOnlyList<DeliveredKey> keys;
        long start = Stopwatch.GetTimestamp();
        try
        {
            keys = await _pool.TakeAsMasterAsync(caller.SaeId, slaveSaeId, number);
            _metrics?.RecordPool(enc: true, Stopwatch.GetElapsedTime(start));
        }
        catch (KeyPoolExhaustedException e)
        {
            throw KeyDeliveryException.Unavailable($"{e.Requested} keys requested, {e.Available} available; keys are being replenished",
                new Dictionary<string, string> { ["requested"] = e.Requested.ToString(), ["available"] = e.Available.ToString() });
        }

        try
        {
            var reserved = new ReservedKey[keys.Count];
            for (int i = 0; i < reserved.Length; i++) reserved[i] = new ReservedKey(keys[i].Id, keys[i].BlockId);
            try
            {
                // Not the request's token: once keys are taken, a client hanging up must not stop the peer learning it.
                start = Stopwatch.GetTimestamp();
                if (hybrid is null)
                {
                    await _notifier.NotifyAsync(caller.SaeId, slaveSaeId, reserved, _stopping);
                }
                else
                {
                    // One encapsulation per request; the peer answers only once it holds the ciphertext durably.
                    using var encapsulation = hybrid.Encapsulate();
                    await _notifier.NotifyHybridAsync(caller.SaeId, slaveSaeId, reserved, encapsulation.Ciphertext, _stopping);
                    hybrid.CombineAtMaster(keys, encapsulation, caller.SaeId, slaveSaeId);
                }
                _metrics?.RecordReservation(Stopwatch.GetElapsedTime(start));
            }
            catch (Exception e)
            {
                // The keys are taken but the peer may not know them: never hand them out (they are zeroised below).
                // A durable pool keeps the reservation in its outbox; the link delivers it later and it expires unused.
                LogNotifyFailed(e.Message, caller.SaeId, slaveSaeId, keys.Count);
                throw KeyDeliveryException.Unavailable("the reservation could not be confirmed by the peer KME; these keys are not handed out, try again");
            }
            _audit?.KeysDelivered("enc_keys", caller.SaeId, slaveSaeId, KeyIdsOf(keys));
            int keyBytes = _pool.KeySizeBits / 8;
            await WriteAsync(context, 200, EtsiJson.KeyContainerSize(keys.Count, keyBytes), w => EtsiJson.WriteKeyContainer(w, keys));
            LogServed(context.Request.Method, context.Request.Path.Value!, caller.SaeId, 200, keys.Count);
        }
        finally
        {
            foreach (var key in keys)
                CryptographicOperations.ZeroMemory(key.Key);
        }
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

        IReadOnlyList<DeliveredKey> keys;
        long start = Stopwatch.GetTimestamp();
        try
        {
            keys = await _pool.TakeAsSlaveAsync(masterSaeId, caller.SaeId, ids);
            _metrics?.RecordPool(enc: false, Stopwatch.GetElapsedTime(start));
        }
        catch (KeyNotFoundException e)
        {
            throw KeyDeliveryException.BadParameter("key_IDs",
                $"key_ID(s) not available to slave SAE '{caller.SaeId}' from master SAE '{masterSaeId}': unknown, already delivered or reserved for another SAE ({e.Message})");
        }
        try
        {
            // Keys the master reserved as hybrid (their ciphertext came with the reservation) become the same hybrid keys here.
            if (_options.HybridKeys is { } hybrid)
                await hybrid.CombineAtSlaveAsync(keys, masterSaeId, caller.SaeId);
            _audit?.KeysDelivered("dec_keys", masterSaeId, caller.SaeId, KeyIdsOf(keys));
            int keyBytes = _pool.KeySizeBits / 8;
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reservation of {KeyCount} keys (master SAE {MasterSaeId}, slave SAE {SlaveSaeId}) was not confirmed by the peer KME ({Reason}); the keys are not handed out")]
    private partial void LogNotifyFailed(string reason, string masterSaeId, string slaveSaeId, int keyCount);
}
