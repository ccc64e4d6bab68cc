using System.Formats.Asn1;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Qkd.Kme.Delivery;

/// <summary>
/// One X.509 certificate revocation list (RFC 5280 section 5) of a CA that issues SAE certificates, read from a PEM or
/// DER file and accepted only when its signature verifies with one of the trusted client CAs. .NET's chain builder
/// takes no CRL from the caller (on Linux it only reads its own download cache), so the list is read here and the
/// serial numbers it revokes are looked up directly.
/// </summary>
/// <remarks>
/// Only what revocation needs is read: issuer, thisUpdate, nextUpdate, the revoked serial numbers, and the signature
/// (ECDSA or RSA PKCS#1 v1.5 with SHA-256/384/512). Entry and list extensions (reason codes, delta CRLs) are not acted on:
/// a serial listed is revoked, whatever its reason.
/// </remarks>
public sealed class ClientCertificateRevocationList
{
    private readonly HashSet<BigInteger> _revoked;

    private ClientCertificateRevocationList(string path, X500DistinguishedName issuer, DateTimeOffset thisUpdate, DateTimeOffset? nextUpdate, HashSet<BigInteger> revoked)
    {
        Path = path;
        Issuer = issuer;
        ThisUpdate = thisUpdate;
        NextUpdate = nextUpdate;
        _revoked = revoked;
    }

    public string Path { get; }

    public X500DistinguishedName Issuer { get; }

    public DateTimeOffset ThisUpdate { get; }

    /// <summary>When the CA promises its next list; past it, this one is out of date and certificates it covers are refused.</summary>
    public DateTimeOffset? NextUpdate { get; }

    public int RevokedCount => _revoked.Count;

    /// <summary>True when this list is the one of <paramref name="certificate"/>'s issuer.</summary>
    public bool Covers(X509Certificate2 certificate) => certificate.IssuerName.RawData.AsSpan().SequenceEqual(Issuer.RawData);

    /// <summary>True when <paramref name="certificate"/> (of this list's issuer) is revoked.</summary>
    public bool Revokes(X509Certificate2 certificate) =>
        _revoked.Contains(new BigInteger(certificate.SerialNumberBytes.Span, isUnsigned: true, isBigEndian: true));

    /// <summary>Reads and verifies the list in <paramref name="path"/>; every error names the file.</summary>
    /// <exception cref="InvalidDataException">Not a CRL, signed by none of <paramref name="trustedCas"/>, or damaged.</exception>
    public static ClientCertificateRevocationList Load(string path, X509Certificate2Collection trustedCas)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"Client certificate revocation list {path} does not exist.", path);
        byte[] der = File.ReadAllBytes(path);
        string text = System.Text.Encoding.ASCII.GetString(der);
        if (text.Contains("-----BEGIN X509 CRL-----", StringComparison.Ordinal))
        {
            var fields = PemEncoding.Find(text);
            if (text[fields.Label] != "X509 CRL")
                throw new InvalidDataException($"Client certificate revocation list {path} is PEM but its first block is '{text[fields.Label]}', not 'X509 CRL'.");
            der = Convert.FromBase64String(text[fields.Base64Data]);
        }
        try
        {
            return Parse(path, der, trustedCas);
        }
        catch (Exception e) when (e is AsnContentException or CryptographicException or FormatException or ArgumentException)
        {
            throw new InvalidDataException($"Client certificate revocation list {path} is not a readable X.509 CRL: {e.Message}", e);
        }
    }

    private static ClientCertificateRevocationList Parse(string path, byte[] der, X509Certificate2Collection trustedCas)
    {
        var outer = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
        ReadOnlyMemory<byte> tbsEncoded = outer.ReadEncodedValue();
        string signatureOid = ReadAlgorithm(outer);
        byte[] signature = outer.ReadBitString(out _);

        var tbs = new AsnReader(tbsEncoded, AsnEncodingRules.DER).ReadSequence();
        if (tbs.PeekTag().HasSameClassAndValue(Asn1Tag.Integer)) tbs.ReadInteger(); // version (v2)
        if (ReadAlgorithm(tbs) != signatureOid)
            throw new InvalidDataException($"Client certificate revocation list {path}: the signature algorithms inside and outside the list differ.");
        var issuer = new X500DistinguishedName(tbs.ReadEncodedValue().Span);
        var thisUpdate = ReadTime(tbs);
        DateTimeOffset? nextUpdate = tbs.HasData && IsTime(tbs.PeekTag()) ? ReadTime(tbs) : null;
        var revoked = new HashSet<BigInteger>();
        if (tbs.HasData && tbs.PeekTag().HasSameClassAndValue(Asn1Tag.Sequence))
        {
            var entries = tbs.ReadSequence();
            while (entries.HasData)
            {
                var entry = entries.ReadSequence();
                revoked.Add(new BigInteger(entry.ReadIntegerBytes().Span, isUnsigned: true, isBigEndian: true));
            }
        }

        var signer = trustedCas.FirstOrDefault(ca => ca.SubjectName.RawData.AsSpan().SequenceEqual(issuer.RawData) && Verifies(ca, signatureOid, tbsEncoded.Span, signature))
            ?? throw new InvalidDataException(
                $"Client certificate revocation list {path} (issuer '{issuer.Name}') is not signed by any of the trusted client CAs: a list the CA did not sign is not trusted.");
        return new ClientCertificateRevocationList(path, issuer, thisUpdate, nextUpdate, revoked);
    }

    private static bool Verifies(X509Certificate2 ca, string oid, ReadOnlySpan<byte> data, byte[] signature)
    {
        HashAlgorithmName hash = oid switch
        {
            "1.2.840.10045.4.3.2" or "1.2.840.113549.1.1.11" => HashAlgorithmName.SHA256,
            "1.2.840.10045.4.3.3" or "1.2.840.113549.1.1.12" => HashAlgorithmName.SHA384,
            "1.2.840.10045.4.3.4" or "1.2.840.113549.1.1.13" => HashAlgorithmName.SHA512,
            _ => throw new InvalidDataException($"CRL signature algorithm {oid} is not supported (ECDSA or RSA with SHA-256/384/512)."),
        };
        if (oid.StartsWith("1.2.840.10045", StringComparison.Ordinal))
        {
            using var ecdsa = ca.GetECDsaPublicKey();
            return ecdsa is not null && ecdsa.VerifyData(data, signature, hash, DSASignatureFormat.Rfc3279DerSequence);
        }
        using var rsa = ca.GetRSAPublicKey();
        return rsa is not null && rsa.VerifyData(data, signature, hash, RSASignaturePadding.Pkcs1);
    }

    private static string ReadAlgorithm(AsnReader reader)
    {
        var algorithm = reader.ReadSequence();
        string oid = algorithm.ReadObjectIdentifier();
        return oid;
    }

    private static bool IsTime(Asn1Tag tag) =>
        tag.HasSameClassAndValue(Asn1Tag.UtcTime) || tag.HasSameClassAndValue(Asn1Tag.GeneralizedTime);

    private static DateTimeOffset ReadTime(AsnReader reader) =>
        reader.PeekTag().HasSameClassAndValue(Asn1Tag.UtcTime) ? reader.ReadUtcTime() : reader.ReadGeneralizedTime();
}
