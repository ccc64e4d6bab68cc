using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Qkd.Kme.Delivery;

/// <summary>Where an authenticated SAE is attached: to this KME (it may call us) or to the peer KME.</summary>
public enum SaeAttachment
{
    Local,
    Peer,
}

/// <summary>An SAE identified by its client certificate.</summary>
public sealed record AuthenticatedSae(string SaeId, SaeAttachment Attachment);

/// <summary>
/// Turns a TLS client certificate into an SAE ID: the chain must end at one of the configured CAs (never a system
/// root) and be valid now; the certificate must carry the clientAuth extended key usage (a certificate without the
/// extension, which X509Chain would take as valid for every purpose, is refused); no configured CRL may revoke it
/// (<see cref="ClientRevocationCheck"/>); then its thumbprint or subject CN must name a configured SAE. Anything else
/// is a 401.
/// </summary>
public sealed class SaeAuthenticator
{
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2", "Client Authentication");

    private readonly X509Certificate2Collection _trustedCas;
    private readonly Dictionary<string, AuthenticatedSae> _byThumbprint = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, AuthenticatedSae> _byCommonName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SaeAttachment> _attachmentById = new(StringComparer.Ordinal);

    private readonly ClientRevocationCheck? _revocation;

    public SaeAuthenticator(KeyDeliveryOptions options, X509Certificate2Collection trustedCas, ClientRevocationCheck? revocation = null)
    {
        options.Validate();
        _trustedCas = trustedCas;
        _revocation = revocation;
        Add(options.LocalSaes, SaeAttachment.Local);
        Add(options.PeerSaes, SaeAttachment.Peer);
    }

    private void Add(IEnumerable<SaeIdentity> saes, SaeAttachment attachment)
    {
        foreach (var sae in saes)
        {
            var who = new AuthenticatedSae(sae.SaeId, attachment);
            _attachmentById[sae.SaeId] = attachment;
            if (sae.CertificateThumbprint is { } t)
                _byThumbprint[KeyDeliveryOptions.NormaliseThumbprint(t)] = who;
            if (sae.CertificateSubjectCn is { } cn)
                _byCommonName[cn] = who;
        }
    }

    /// <summary>Changes when the revocation lists are read again: an SAE authenticated before must be checked again.</summary>
    public int RevocationVersion => _revocation?.Version ?? 0;

    /// <summary>Where the SAE with this ID is attached, or null when no such SAE is configured.</summary>
    public SaeAttachment? AttachmentOf(string saeId) =>
        _attachmentById.TryGetValue(saeId, out var a) ? a : null;

    /// <exception cref="KeyDeliveryException">401: no certificate, an untrusted or expired one, or one naming no known SAE.</exception>
    public AuthenticatedSae Authenticate(X509Certificate2? certificate)
    {
        if (certificate is null)
            throw KeyDeliveryException.Unauthorized("no client certificate was presented");
        string? chainProblem = ChainProblem(certificate);
        if (chainProblem is not null)
            throw KeyDeliveryException.Unauthorized($"the client certificate is not trusted ({chainProblem})");
        if (_byThumbprint.TryGetValue(certificate.Thumbprint, out var sae)
            || _byThumbprint.TryGetValue(certificate.GetCertHashString(HashAlgorithmName.SHA256), out sae)
            || _byCommonName.TryGetValue(certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false), out sae))
            return sae;
        throw KeyDeliveryException.Unauthorized("the client certificate does not identify an SAE known to this KME");
    }

    /// <summary>An explicit EKU extension listing clientAuth: absence of the extension does not count.</summary>
    private static bool HasClientAuthUsage(X509Certificate2 certificate)
    {
        foreach (var extension in certificate.Extensions)
            if (extension is X509EnhancedKeyUsageExtension eku)
                foreach (var oid in eku.EnhancedKeyUsages)
                    if (oid.Value == ClientAuthentication.Value) return true;
        return false;
    }

    /// <summary>Null when the chain is good, else why not (for the 401 message; names no secrets).</summary>
    private string? ChainProblem(X509Certificate2 certificate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_trustedCas);
        // Revocation against the operator's CRLs is checked below (ClientRevocationCheck): X509Chain takes none from us.
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(ClientAuthentication);
        chain.ChainPolicy.VerificationTime = DateTime.Now;
        try
        {
            if (!HasClientAuthUsage(certificate))
                return "it lacks the clientAuth extended key usage (1.3.6.1.5.5.7.3.2)";
            if (!chain.Build(certificate))
                return string.Join(", ", chain.ChainStatus.Select(s => s.Status.ToString()).Distinct());
            return _revocation?.Problem(chain.ChainElements, DateTimeOffset.UtcNow);
        }
        finally
        {
            foreach (var element in chain.ChainElements)
                if (!ReferenceEquals(element.Certificate, certificate))
                    element.Certificate.Dispose();
        }
    }
}
