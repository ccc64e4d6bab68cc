using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Qkd.Kme.Delivery;

/// <summary>The server certificate (with its private key) and the CAs trusted to issue SAE client certificates.</summary>
public sealed class KeyDeliveryCertificates : IDisposable
{
    public KeyDeliveryCertificates(X509Certificate2 serverCertificate, X509Certificate2Collection trustedClientCas, ClientRevocationCheck? revocation = null)
    {
        if (!serverCertificate.HasPrivateKey)
            throw new ArgumentException($"Server certificate {serverCertificate.Subject} has no private key.", nameof(serverCertificate));
        if (trustedClientCas.Count == 0)
            throw new ArgumentException("At least one trusted client CA is required.", nameof(trustedClientCas));
        ServerCertificate = serverCertificate;
        TrustedClientCas = trustedClientCas;
        Revocation = revocation;
    }

    /// <summary>The configured CRLs of the client CAs; null when none is configured.</summary>
    public ClientRevocationCheck? Revocation { get; }

    public X509Certificate2 ServerCertificate { get; }

    public X509Certificate2Collection TrustedClientCas { get; }

    /// <summary>Loads the files named by the options; the exception names the file and what is wrong with it.</summary>
    public static KeyDeliveryCertificates Load(KeyDeliveryOptions options)
    {
        options.Validate();
        X509Certificate2 server = LoadServerCertificate(options);
        var cas = new X509Certificate2Collection();
        foreach (string path in options.TrustedClientCaPaths)
        {
            var loaded = LoadCertificates(path);
            if (loaded.Count == 0)
                throw new InvalidOperationException($"Trusted client CA file {path} holds no certificate.");
            cas.AddRange(loaded);
        }
        var revocation = options.ClientCrlPaths.Count == 0 ? null : new ClientRevocationCheck(options.ClientCrlPaths, cas);
        return new KeyDeliveryCertificates(server, cas, revocation);
    }

    private static X509Certificate2 LoadServerCertificate(KeyDeliveryOptions options)
    {
        string path = options.ServerCertificatePath;
        if (!File.Exists(path))
            throw new FileNotFoundException($"Server certificate file {path} does not exist.", path);
        try
        {
            if (IsPkcs12(path))
                return X509CertificateLoader.LoadPkcs12FromFile(path, options.ServerCertificatePassword,
                    X509KeyStorageFlags.EphemeralKeySet);
            X509Certificate2 pem = options.ServerCertificatePassword is { } password
                ? X509Certificate2.CreateFromEncryptedPemFile(path, password, options.ServerKeyPath)
                : X509Certificate2.CreateFromPemFile(path, options.ServerKeyPath);
            // SslStream on some platforms refuses an ephemeral PEM key; a PKCS#12 round trip gives it a usable one.
            using (pem)
                return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null, X509KeyStorageFlags.EphemeralKeySet);
        }
        catch (CryptographicException e)
        {
            throw new InvalidOperationException(
                $"Server certificate {path}{(options.ServerKeyPath is { } k ? " with key " + k : "")} could not be loaded: {e.Message}", e);
        }
    }

    private static bool IsPkcs12(string path) =>
        Path.GetExtension(path).ToLowerInvariant() is ".pfx" or ".p12";

    private static X509Certificate2Collection LoadCertificates(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"Trusted client CA file {path} does not exist.", path);
        try
        {
            var collection = new X509Certificate2Collection();
            string text = File.ReadAllText(path);
            if (text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
                collection.ImportFromPem(text);
            else
                collection.Add(X509CertificateLoader.LoadCertificateFromFile(path));
            return collection;
        }
        catch (CryptographicException e)
        {
            throw new InvalidOperationException($"Trusted client CA file {path} could not be read as PEM or DER certificates: {e.Message}", e);
        }
    }

    public void Dispose()
    {
        ServerCertificate.Dispose();
        foreach (var ca in TrustedClientCas)
            ca.Dispose();
    }
}
