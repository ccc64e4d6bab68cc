using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Qkd.Kme.Pool;

namespace Qkd.Kme.Delivery;

/// <summary>
/// An SAE's side of ETSI GS QKD 014 (v1.1.1, section 5): Get key (enc_keys) as the master SAE, Get key with key IDs
/// (dec_keys) as the slave, over mutual TLS with the SAE's certificate, trusting only the given CA for the KME. For
/// integrators embedding the key delivery in their software, for the HIL suite and for tests.
/// </summary>
/// <remarks>
/// Keys come back as <see cref="DeliveredKey"/>s whose bytes the caller owns: zero them
/// (<see cref="CryptographicOperations.ZeroMemory"/>) once used. The response bodies that held them are zeroed here.
/// </remarks>
public sealed class EtsiKeyDeliveryClient : IDisposable
{
    private readonly HttpClient _http;

    /// <param name="kme">The KME's base address, e.g. https://kme-alice.example:8443/.</param>
    /// <param name="saeCertificate">The SAE's client certificate, with its private key.</param>
    /// <param name="trustedCa">The only CA trusted for the KME's server certificate.</param>
    public EtsiKeyDeliveryClient(Uri kme, X509Certificate2 saeCertificate, X509Certificate2 trustedCa)
    {
        ArgumentNullException.ThrowIfNull(kme);
        _http = new HttpClient(CreateHandler(saeCertificate, trustedCa)) { BaseAddress = kme.AbsoluteUri.EndsWith('/') ? kme : new Uri(kme.AbsoluteUri + "/") };
    }

    /// <summary>
    /// The HTTP handler an SAE talks to its KME through: mutual TLS presenting <paramref name="saeCertificate"/>, the
    /// KME's server certificate checked against its name and chained to <paramref name="trustedCa"/> only. For callers
    /// that make ETSI 014 requests of their own (raw status codes, other bodies) with the same security.
    /// </summary>
    public static SocketsHttpHandler CreateHandler(X509Certificate2 saeCertificate, X509Certificate2 trustedCa)
    {
        ArgumentNullException.ThrowIfNull(saeCertificate);
        ArgumentNullException.ThrowIfNull(trustedCa);
        return new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                LocalCertificateSelectionCallback = (_, _, _, _, _) => saeCertificate,
                RemoteCertificateValidationCallback = (_, server, _, errors) =>
                {
                    if (server is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(trustedCa);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    using var leaf = X509CertificateLoader.LoadCertificate(server.GetRawCertData());
                    return chain.Build(leaf);
                },
            },
        };
    }

    /// <summary>Get key: <paramref name="number"/> new keys shared with <paramref name="slaveSaeId"/> (GET .../enc_keys).</summary>
    /// <exception cref="KeyDeliveryException">The KME refused (the status code and its message).</exception>
    /// <exception cref="HttpRequestException">The KME could not be reached.</exception>
    public Task<IReadOnlyList<DeliveredKey>> GetKeysAsync(string slaveSaeId, int number, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(slaveSaeId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(number);
        return RequestAsync($"api/v1/keys/{Uri.EscapeDataString(slaveSaeId)}/enc_keys?number={number}", cancellationToken);
    }

    /// <summary>Get key with key IDs: the keys <paramref name="masterSaeId"/> obtained under <paramref name="keyIds"/> (GET .../dec_keys).</summary>
    /// <exception cref="KeyDeliveryException">The KME refused (the status code and its message).</exception>
    /// <exception cref="HttpRequestException">The KME could not be reached.</exception>
    public Task<IReadOnlyList<DeliveredKey>> GetKeysWithIdsAsync(string masterSaeId, IReadOnlyCollection<Guid> keyIds, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(masterSaeId);
        ArgumentNullException.ThrowIfNull(keyIds);
        if (keyIds.Count == 0) throw new ArgumentException("At least one key ID is needed.", nameof(keyIds));
        string ids = string.Join("&", keyIds.Select(id => $"key_ID={id:D}"));
        return RequestAsync($"api/v1/keys/{Uri.EscapeDataString(masterSaeId)}/dec_keys?{ids}", cancellationToken);
    }

    private async Task<IReadOnlyList<DeliveredKey>> RequestAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(path, cancellationToken).ConfigureAwait(false);
        byte[] body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (!response.IsSuccessStatusCode)
            {
                string message = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String
                    ? m.GetString()! : $"HTTP {(int)response.StatusCode}";
                throw new KeyDeliveryException((int)response.StatusCode, $"{_http.BaseAddress}{path.Split('?')[0]}: {message}");
            }
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("keys", out var keys) || keys.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException($"{_http.BaseAddress}{path.Split('?')[0]}: the response is not a key container (no \"keys\" array)");
            var delivered = new List<DeliveredKey>(keys.GetArrayLength());
            foreach (var key in keys.EnumerateArray())
                delivered.Add(new DeliveredKey(Guid.Parse(key.GetProperty("key_ID").GetString()!), key.GetProperty("key").GetBytesFromBase64()));
            return delivered;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{_http.BaseAddress}{path.Split('?')[0]}: the response is not JSON (HTTP {(int)response.StatusCode}): {e.Message}", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(body);
        }
    }

    public void Dispose() => _http.Dispose();
}
