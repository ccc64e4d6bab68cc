using System.Net;

namespace Qkd.Kme.Delivery;

/// <summary>
/// Settings of one KME's ETSI GS QKD 014 key-delivery server. Key size is not here: it is the pool's
/// (<see cref="Pool.IKeyPool.KeySizeBits"/>), so the server can never announce a size the pool does not hold.
/// </summary>
public sealed record KeyDeliveryOptions
{
    /// <summary>Address to listen on. Loopback by default: exposing the KME is an explicit operator decision.</summary>
    public string ListenAddress { get; init; } = "127.0.0.1";

    /// <summary>TCP port; 0 picks a free port (see <see cref="EtsiKeyDeliveryServer.BaseAddress"/>).</summary>
    public int Port { get; init; } = 8443;

    /// <summary>Server certificate: a PKCS#12 (.pfx/.p12) file with its key, or a PEM certificate (with <see cref="ServerKeyPath"/>).</summary>
    public string ServerCertificatePath { get; init; } = "";

    /// <summary>PEM private key of a PEM server certificate; null when the key is in the certificate file.</summary>
    public string? ServerKeyPath { get; init; }

    /// <summary>Password of the PKCS#12 file or the encrypted PEM key; null when there is none.</summary>
    public string? ServerCertificatePassword { get; init; }

    /// <summary>
    /// CA certificates (PEM or DER files, a PEM file may hold several) that issue SAE client certificates. Only these
    /// are trusted for client authentication; the system's roots never are.
    /// </summary>
    public IReadOnlyList<string> TrustedClientCaPaths { get; init; } = [];

    /// <summary>
    /// Certificate revocation lists (PEM or DER files) of the CAs in <see cref="TrustedClientCaPaths"/>. A client
    /// certificate whose issuer has a list here is refused (401) when the list names it or is past its nextUpdate. Each
    /// list must be signed by one of the trusted CAs. The files are read again when they change. Empty: no revocation
    /// check (an SAE is then revoked by removing it from <see cref="LocalSaes"/>).
    /// </summary>
    public IReadOnlyList<string> ClientCrlPaths { get; init; } = [];

    /// <summary>This KME's ID (ETSI source_KME_ID).</summary>
    public string KmeId { get; init; } = "";

    /// <summary>The peer KME's ID at the other end of the link (ETSI target_KME_ID).</summary>
    public string PeerKmeId { get; init; } = "";

    /// <summary>SAEs attached to this KME, each with the client-certificate identity that authenticates it.</summary>
    public IReadOnlyList<SaeIdentity> LocalSaes { get; init; } = [];

    /// <summary>
    /// SAEs attached to the peer KME. Their certificate identities are optional: when given, such an SAE calling this
    /// KME is recognised and told it is on the wrong KME (401) instead of being treated as a stranger.
    /// </summary>
    public IReadOnlyList<SaeIdentity> PeerSaes { get; init; } = [];

    /// <summary>ETSI max_key_per_request: the most keys (or key_IDs) one request may ask for.</summary>
    public int MaxKeyPerRequest { get; init; } = 128;

    /// <summary>ETSI max_SAE_ID_count. Must be 0: the pool reserves a key for one slave SAE, so no key multicast.</summary>
    public int MaxSaeIdCount { get; init; }

    /// <summary>Largest request body accepted, bytes (a request of max_key_per_request key_IDs is about 60 bytes each).</summary>
    public int MaxRequestBodyBytes { get; init; } = 256 * 1024;

    /// <summary>
    /// Hybrid keys (the Key request extension {"hybrid": "ml-kem-768"}) when set: QKD keys combined with an ML-KEM secret
    /// (<see cref="Hybrid.IHybridKeys"/>). Null: the extension is refused when mandatory and ignored when optional.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public Hybrid.IHybridKeys? HybridKeys { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming every problem; returns this when valid.</summary>
    public KeyDeliveryOptions Validate()
    {
        var problems = new List<string>();
        if (!IPAddress.TryParse(ListenAddress, out _))
            problems.Add($"ListenAddress '{ListenAddress}' is not an IP address");
        if (Port is < 0 or > 65535)
            problems.Add($"Port {Port} is outside 0..65535");
        if (string.IsNullOrWhiteSpace(ServerCertificatePath))
            problems.Add("ServerCertificatePath is empty: the server needs a certificate (PFX, or PEM with ServerKeyPath)");
        if (TrustedClientCaPaths.Count == 0)
            problems.Add("TrustedClientCaPaths is empty: at least one CA must issue the SAE client certificates");
        if (string.IsNullOrWhiteSpace(KmeId))
            problems.Add("KmeId (source_KME_ID) is empty");
        if (string.IsNullOrWhiteSpace(PeerKmeId))
            problems.Add("PeerKmeId (target_KME_ID) is empty");
        else if (PeerKmeId == KmeId)
            problems.Add($"PeerKmeId equals KmeId '{KmeId}': the peer is the KME at the other end of the link");
        if (LocalSaes.Count == 0)
            problems.Add("LocalSaes is empty: no SAE could call this KME");
        if (PeerSaes.Count == 0)
            problems.Add("PeerSaes is empty: no SAE at the peer to share keys with");
        if (MaxKeyPerRequest < 1)
            problems.Add($"MaxKeyPerRequest {MaxKeyPerRequest} must be at least 1");
        if (MaxSaeIdCount != 0)
            problems.Add($"MaxSaeIdCount {MaxSaeIdCount} must be 0: key multicast (additional_slave_SAE_IDs) is not supported");
        if (MaxRequestBodyBytes < 1024)
            problems.Add($"MaxRequestBodyBytes {MaxRequestBodyBytes} is below 1024");

        var seenIds = new HashSet<string>(StringComparer.Ordinal);
        var seenIdentities = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (sae, side) in LocalSaes.Select(s => (s, "LocalSaes")).Concat(PeerSaes.Select(s => (s, "PeerSaes"))))
        {
            if (sae is null)
            {
                problems.Add($"{side} holds a null entry");
                continue;
            }
            if (string.IsNullOrWhiteSpace(sae.SaeId))
                problems.Add($"{side}: an SAE has an empty SaeId");
            else if (!seenIds.Add(sae.SaeId))
                problems.Add($"{side}: SAE ID '{sae.SaeId}' appears twice (an SAE is attached to one KME)");
            if (side == "LocalSaes" && sae.CertificateThumbprint is null && sae.CertificateSubjectCn is null)
                problems.Add($"LocalSaes: SAE '{sae.SaeId}' has neither CertificateThumbprint nor CertificateSubjectCn, so it could never authenticate");
            if (sae.CertificateThumbprint is { } t && !seenIdentities.Add("thumbprint:" + NormaliseThumbprint(t)))
                problems.Add($"{side}: certificate thumbprint {t} identifies two SAEs");
            if (sae.CertificateSubjectCn is { } cn && !seenIdentities.Add("cn:" + cn))
                problems.Add($"{side}: certificate subject CN '{cn}' identifies two SAEs");
            if (sae.CertificateThumbprint is { } tp && !IsHex(NormaliseThumbprint(tp)))
                problems.Add($"{side}: SAE '{sae.SaeId}' thumbprint '{tp}' is not hexadecimal (SHA-1 or SHA-256 of the certificate)");
        }

        if (problems.Count > 0)
            throw new ArgumentException("Key delivery settings are invalid: " + string.Join("; ", problems) + ".");
        return this;
    }

    internal static string NormaliseThumbprint(string thumbprint) =>
        thumbprint.Replace(":", "").Replace(" ", "").ToUpperInvariant();

    private static bool IsHex(string s) => s.Length is 40 or 64 && s.All(Uri.IsHexDigit);
}

/// <summary>
/// One SAE and the client certificate that identifies it: by thumbprint (SHA-1 or SHA-256 hex, colons allowed) or by
/// subject common name. A thumbprint pins one certificate; a CN lets the CA re-issue it.
/// </summary>
public sealed record SaeIdentity(string SaeId, string? CertificateThumbprint = null, string? CertificateSubjectCn = null);
