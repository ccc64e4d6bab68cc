using Qkd.Kme.Delivery;

namespace Qkd.Kme.Tests.Delivery;

public sealed class KeyDeliveryOptionsTests
{
    private static KeyDeliveryOptions Good => new()
    {
        ServerCertificatePath = "server.pfx",
        TrustedClientCaPaths = ["ca.pem"],
        KmeId = "KME-A",
        PeerKmeId = "KME-B",
        LocalSaes = [new SaeIdentity("sae-a", CertificateSubjectCn: "sae-a")],
        PeerSaes = [new SaeIdentity("sae-b")],
    };

    [Fact]
    public void Good_settings_validate_and_default_to_loopback() =>
        Assert.Equal("127.0.0.1", Good.Validate().ListenAddress);

    [Fact]
    public void Every_problem_is_named_at_once()
    {
        var bad = Good with
        {
            ListenAddress = "kme.example",
            Port = 70000,
            KmeId = "",
            PeerKmeId = "KME-B",
            MaxKeyPerRequest = 0,
            MaxSaeIdCount = 2,
            LocalSaes = [new SaeIdentity("sae-a"), new SaeIdentity("sae-c", CertificateThumbprint: "zz")],
            PeerSaes = [new SaeIdentity("sae-a")],
        };

        var e = Assert.Throws<ArgumentException>(() => bad.Validate());

        foreach (string expected in new[] { "ListenAddress 'kme.example'", "Port 70000", "KmeId (source_KME_ID) is empty",
                     "MaxKeyPerRequest 0", "MaxSaeIdCount 2", "'sae-a' appears twice", "neither CertificateThumbprint nor CertificateSubjectCn",
                     "thumbprint 'zz' is not hexadecimal" })
            Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Missing_certificate_files_are_named()
    {
        var e = Assert.Throws<FileNotFoundException>(() => KeyDeliveryCertificates.Load(Good with { ServerCertificatePath = "/nonexistent/server.pfx" }));
        Assert.Contains("/nonexistent/server.pfx", e.Message);
    }

    [Fact]
    public void A_PEM_server_certificate_with_its_key_file_loads_like_the_PFX()
    {
        using var certs = new TestCertificates();
        string certPath = Path.Combine(certs.Directory, "server.crt"), keyPath = Path.Combine(certs.Directory, "server.key");
        File.WriteAllText(certPath, certs.Server.ExportCertificatePem());
        using (var key = System.Security.Cryptography.X509Certificates.ECDsaCertificateExtensions.GetECDsaPrivateKey(certs.Server)!)
            File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());

        using var pem = KeyDeliveryCertificates.Load(Good with { ServerCertificatePath = certPath, ServerKeyPath = keyPath, TrustedClientCaPaths = [certs.CaPemPath] });
        using var pfx = KeyDeliveryCertificates.Load(Good with { ServerCertificatePath = certs.ServerPfxPath, TrustedClientCaPaths = [certs.CaPemPath] });

        Assert.True(pem.ServerCertificate.HasPrivateKey);
        Assert.Equal(pfx.ServerCertificate.Thumbprint, pem.ServerCertificate.Thumbprint);
        Assert.Equal(certs.Ca.Thumbprint, Assert.Single(pem.TrustedClientCas).Thumbprint);
    }
}
