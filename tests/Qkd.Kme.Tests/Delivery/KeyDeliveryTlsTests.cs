using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Numerics;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Qkd.Core.Bits;
using Qkd.Kme.Delivery;
using Qkd.Kme.Pool;

namespace Qkd.Kme.Tests.Delivery;

/// <summary>
/// The TLS side of the ETSI server against real Kestrel: forward-secret suites only, the clientAuth usage required,
/// and client certificates checked against the operator's CRLs.
/// </summary>
public sealed class KeyDeliveryTlsTests : IClassFixture<KeyDeliveryTlsTests.Certs>
{
    public sealed class Certs : IDisposable
    {
        public TestCertificates Value { get; } = new();

        public void Dispose() => Value.Dispose();
    }

    private readonly TestCertificates _certs;

    public KeyDeliveryTlsTests(Certs certs) => _certs = certs.Value;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private KeyDeliveryOptions Options(string serverPfx, params string[] crls) => new()
    {
        ListenAddress = "127.0.0.1",
        Port = 0,
        ServerCertificatePath = serverPfx,
        TrustedClientCaPaths = [_certs.CaPemPath],
        ClientCrlPaths = crls,
        KmeId = "KME-ALICE",
        PeerKmeId = "KME-BOB",
        LocalSaes = [new SaeIdentity("sae-alice-1", CertificateSubjectCn: "sae-alice-1")],
        PeerSaes = [new SaeIdentity("sae-bob-1", CertificateSubjectCn: "sae-bob-1")],
    };

    private static async Task<(EtsiKeyDeliveryServer Server, InMemoryKeyPool Pool)> Start(KeyDeliveryOptions options)
    {
        var pool = new InMemoryKeyPool(KmeRole.Alice, "tls-test", 256);
        var bytes = new byte[64 * 32];
        new Random(1).NextBytes(bytes);
        pool.Accept(0, PackedBits.FromBytes(bytes, bytes.Length * 8L));
        var peer = new InMemoryKeyPool(KmeRole.Bob, "tls-test", 256);
        peer.Accept(0, PackedBits.FromBytes(bytes, bytes.Length * 8L));
        var server = new EtsiKeyDeliveryServer(options, pool, new PoolReservationNotifier(peer));
        await server.StartAsync(Ct);
        return (server, pool);
    }

    /// <summary>A TLS handshake with exactly these protocols and suites; the negotiated suite, or the failure.</summary>
    private static async Task<(TlsCipherSuite? Suite, Exception? Failure)> Handshake(Uri server, SslProtocols protocols, TlsCipherSuite[] suites, X509Certificate2 client)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.Host, server.Port, Ct);
        await using var ssl = new SslStream(tcp.GetStream());
        try
        {
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                EnabledSslProtocols = protocols,
                CipherSuitesPolicy = new CipherSuitesPolicy(suites),
                ClientCertificates = [client],
                LocalCertificateSelectionCallback = (_, _, _, _, _) => client,
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
            }, Ct);
            return (ssl.NegotiatedCipherSuite, null);
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            return (null, e);
        }
    }

    /// <summary>An RSA server certificate (so RSA key exchange, which has no forward secrecy, is possible at all) in a PFX.</summary>
    private string RsaServerPfx()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=kme-rsa.test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        using var caKey = _certs.Ca.GetECDsaPrivateKey()!;
        using var issued = request.Create(_certs.Ca.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey),
            DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(2), RandomNumberGenerator.GetBytes(12));
        using var withKey = issued.CopyWithPrivateKey(key);
        string path = Path.Combine(_certs.Directory, $"rsa-{Guid.NewGuid():N}.pfx");
        File.WriteAllBytes(path, withKey.Export(X509ContentType.Pkcs12));
        return path;
    }

    [Fact]
    public async Task Only_forward_secret_suites_are_negotiated()
    {
        if (EtsiKeyDeliveryServer.ForwardSecretSuites is null) return; // no suite control on this platform: TLS 1.3 only
        var (server, pool) = await Start(Options(RsaServerPfx()));
        await using var _ = server;
        using var __ = pool;
        var client = _certs.Client("sae-alice-1");

        var rsaKeyExchange = await Handshake(server.BaseAddress, SslProtocols.Tls12,
            [TlsCipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256, TlsCipherSuite.TLS_RSA_WITH_AES_256_GCM_SHA384, TlsCipherSuite.TLS_RSA_WITH_AES_128_CBC_SHA256], client);
        Assert.Null(rsaKeyExchange.Suite);
        Assert.NotNull(rsaKeyExchange.Failure);

        // Forward secret but without an AEAD cipher: not offered either (the list is pinned, whatever the system's TLS configuration).
        var cbc = await Handshake(server.BaseAddress, SslProtocols.Tls12, [TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384], client);
        Assert.Null(cbc.Suite);

        var ecdhe = await Handshake(server.BaseAddress, SslProtocols.Tls12, [TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256], client);
        Assert.Equal(TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, ecdhe.Suite);

        var tls13 = await Handshake(server.BaseAddress, SslProtocols.Tls13, [TlsCipherSuite.TLS_AES_256_GCM_SHA384], client);
        Assert.Equal(TlsCipherSuite.TLS_AES_256_GCM_SHA384, tls13.Suite);
    }

    [Fact]
    public async Task A_client_certificate_without_the_clientAuth_usage_gets_401()
    {
        var (server, pool) = await Start(Options(_certs.ServerPfxPath));
        await using var _ = server;
        using var __ = pool;
        foreach (var usages in new Oid[]?[] { null, [new Oid("1.3.6.1.5.5.7.3.1")] })
        {
            using var certificate = Issue("sae-alice-1", usages);
            using var http = KmeLink.CreateClient(server.BaseAddress, certificate, _certs.Ca);
            var response = await http.GetAsync("/api/v1/keys/sae-bob-1/status", Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Contains("clientAuth", await response.Content.ReadAsStringAsync(Ct));
        }
        using var good = KmeLink.CreateClient(server.BaseAddress, _certs.Client("sae-alice-1"), _certs.Ca);
        Assert.Equal(HttpStatusCode.OK, (await good.GetAsync("/api/v1/keys/sae-bob-1/status", Ct)).StatusCode);
    }

    [Fact]
    public async Task A_revoked_client_certificate_gets_401_and_others_are_served()
    {
        var revoked = _certs.Client("sae-alice-1");
        var kept = _certs.Client("sae-alice-1");
        string crl = WriteCrl([revoked], nextUpdate: DateTimeOffset.UtcNow.AddDays(1), pem: true);
        var (server, pool) = await Start(Options(_certs.ServerPfxPath, crl));
        await using var _ = server;
        using var __ = pool;

        using var refused = KmeLink.CreateClient(server.BaseAddress, revoked, _certs.Ca);
        var response = await refused.GetAsync("/api/v1/keys/sae-bob-1/enc_keys", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("revoked", await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal(32, pool.AvailableAsMaster); // nothing taken

        using var served = KmeLink.CreateClient(server.BaseAddress, kept, _certs.Ca);
        Assert.Equal(HttpStatusCode.OK, (await served.GetAsync("/api/v1/keys/sae-bob-1/enc_keys", Ct)).StatusCode);
    }

    [Fact]
    public async Task An_out_of_date_CRL_refuses_the_certificates_it_covers()
    {
        string crl = WriteCrl([], nextUpdate: DateTimeOffset.UtcNow.AddMinutes(-5), pem: false, thisUpdate: DateTimeOffset.UtcNow.AddDays(-1));
        var (server, pool) = await Start(Options(_certs.ServerPfxPath, crl));
        await using var _ = server;
        using var __ = pool;
        using var http = KmeLink.CreateClient(server.BaseAddress, _certs.Client("sae-alice-1"), _certs.Ca);
        var response = await http.GetAsync("/api/v1/keys/sae-bob-1/status", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("out of date", await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public void A_CRL_not_signed_by_a_trusted_CA_or_missing_stops_the_server_naming_the_file()
    {
        var builder = new CertificateRevocationListBuilder();
        string forged = Path.Combine(_certs.Directory, $"forged-{Guid.NewGuid():N}.crl");
        File.WriteAllBytes(forged, builder.Build(_certs.RogueCa, BigInteger.One, DateTimeOffset.UtcNow.AddDays(1), HashAlgorithmName.SHA256));
        var e = Assert.Throws<InvalidDataException>(() => KeyDeliveryCertificates.Load(Options(_certs.ServerPfxPath, forged)));
        Assert.Contains(forged, e.Message);

        string missing = Path.Combine(_certs.Directory, "none.crl");
        var m = Assert.Throws<FileNotFoundException>(() => KeyDeliveryCertificates.Load(Options(_certs.ServerPfxPath, missing)));
        Assert.Contains(missing, m.Message);
    }

    [Fact]
    public void A_replaced_CRL_is_read_again_and_a_bad_replacement_keeps_the_old_list()
    {
        var first = _certs.Client("sae-alice-1");
        var second = _certs.Client("sae-alice-1");
        string path = WriteCrl([first], DateTimeOffset.UtcNow.AddDays(1), pem: true);
        var cas = new X509Certificate2Collection(_certs.Ca);
        var check = new ClientRevocationCheck([path], cas, recheckInterval: TimeSpan.Zero);
        int version = check.Version;
        Assert.Single(check.Lists);
        Assert.True(check.Lists[0].Revokes(first));
        Assert.False(check.Lists[0].Revokes(second));

        File.Copy(WriteCrl([first, second], DateTimeOffset.UtcNow.AddDays(1), pem: false), path, overwrite: true);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddSeconds(10));
        Assert.NotEqual(version, check.Version);
        Assert.True(check.Lists[0].Revokes(second));

        File.WriteAllText(path, "not a CRL");
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddSeconds(20));
        _ = check.Version;
        Assert.Contains(path, check.LastReloadFailure);
        Assert.True(check.Lists[0].Revokes(second)); // the previous list stays in force
    }

    private X509Certificate2 Issue(string commonName, Oid[]? usages)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        if (usages is not null) request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([.. usages], false));
        using var issued = request.Create(_certs.Ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(2), RandomNumberGenerator.GetBytes(12));
        using var withKey = issued.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    private string WriteCrl(IEnumerable<X509Certificate2> revoke, DateTimeOffset nextUpdate, bool pem, DateTimeOffset? thisUpdate = null)
    {
        var builder = new CertificateRevocationListBuilder();
        foreach (var c in revoke) builder.AddEntry(c, DateTimeOffset.UtcNow.AddMinutes(-1));
        byte[] der = builder.Build(_certs.Ca, BigInteger.One, nextUpdate, HashAlgorithmName.SHA256, thisUpdate: thisUpdate);
        string path = Path.Combine(_certs.Directory, $"ca-{Guid.NewGuid():N}.crl");
        if (pem) File.WriteAllText(path, PemEncoding.WriteString("X509 CRL", der));
        else File.WriteAllBytes(path, der);
        return path;
    }
}
