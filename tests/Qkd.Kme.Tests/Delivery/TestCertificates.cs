using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

using Qkd.Kme.Delivery;

namespace Qkd.Kme.Tests.Delivery;

/// <summary>
/// Certificates generated at run time for the key-delivery tests (their directory also holds the tests' key pools): a test CA, a server certificate for
/// 127.0.0.1/localhost, SAE client certificates issued by the CA, and a rogue CA to issue untrusted ones.
/// ECDSA P-256 keeps generation fast. Keys are round-tripped through PKCS#12 so SslStream can use them on any platform.
/// </summary>
public sealed class TestCertificates : IDisposable
{

    private readonly List<X509Certificate2> _issued = [];

    public TestCertificates()
    {
        Ca = CreateCa("QKD test SAE CA");
        RogueCa = CreateCa("Rogue CA");
        Server = Issue(Ca, "kme.test", serverAuth: true);
        Directory = System.IO.Directory.CreateTempSubdirectory("qkd-kd-certs-").FullName;
        ServerPfxPath = Path.Combine(Directory, "server.pfx");
        File.WriteAllBytes(ServerPfxPath, Server.Export(X509ContentType.Pkcs12));
        CaPemPath = Path.Combine(Directory, "ca.pem");
        File.WriteAllText(CaPemPath, Ca.ExportCertificatePem());
    }

    public X509Certificate2 Ca { get; }

    public X509Certificate2 RogueCa { get; }

    public X509Certificate2 Server { get; }

    public string Directory { get; }

    public string ServerPfxPath { get; }

    public string CaPemPath { get; }

    /// <summary>A client certificate with subject CN = <paramref name="commonName"/> issued by the test CA.</summary>
    public X509Certificate2 Client(string commonName) => Issue(Ca, commonName, serverAuth: false);

    /// <summary>A client certificate issued by a CA the server does not trust.</summary>
    public X509Certificate2 Untrusted(string commonName) => Issue(RogueCa, commonName, serverAuth: false);

    private X509Certificate2 CreateCa(string name)
    {
        using var ca = CertificateIssuer.CreateCa(name, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return Keep(ca);
    }

    private X509Certificate2 Issue(X509Certificate2 issuer, string commonName, bool serverAuth)
    {
        using var issued = CertificateIssuer.Issue(issuer, commonName, serverAuth, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(7));
        return Keep(issued);
    }

    private X509Certificate2 Keep(X509Certificate2 certificate)
    {
        var loaded = X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
        lock (_issued) _issued.Add(loaded);
        return loaded;
    }

    public void Dispose()
    {
        lock (_issued)
            foreach (var c in _issued) c.Dispose();
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
