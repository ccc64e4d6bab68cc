using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Qkd.Core.Bits;
using Qkd.Kme.Delivery;
using Qkd.Kme.Pool;

namespace Qkd.Kme.Tests.Delivery;

/// <summary>The peer pool learns the reservation directly: the in-process equivalent of the classical channel.</summary>
public sealed class PoolReservationNotifier(IKeyPool peer) : IReservationNotifier
{
    public int Notifications;

    public async ValueTask NotifyAsync(string masterSaeId, string slaveSaeId, IReadOnlyList<ReservedKey> keys, CancellationToken cancellationToken)
    {
        await peer.RecordPeerReservationAsync(masterSaeId, slaveSaeId, keys);
        Interlocked.Increment(ref Notifications);
    }
}

/// <summary>A KME link that knows it is down (no connection to the peer).</summary>
public sealed class LinkDownNotifier : IReservationNotifier
{
    public bool IsPeerReachable => false;

    public ValueTask NotifyAsync(string masterSaeId, string slaveSaeId, IReadOnlyList<ReservedKey> keys, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("enc_keys must not reserve while the link is down");
}

/// <summary>A peer that cannot be reached.</summary>
public sealed class UnreachablePeerNotifier : IReservationNotifier
{
    public ValueTask NotifyAsync(string masterSaeId, string slaveSaeId, IReadOnlyList<ReservedKey> keys, CancellationToken cancellationToken) =>
        throw new IOException("classical channel down");
}

/// <summary>
/// Two KMEs of one link on 127.0.0.1: Alice's and Bob's servers, each with its own pool fed the same distilled
/// blocks, and each KME's enc_keys reservations reaching the other's pool. SAEs: three at Alice (sae-alice-3 known by
/// certificate thumbprint, the others by CN), two at Bob.
/// </summary>
public sealed class KmeLink : IAsyncDisposable
{
    public const string LinkId = "link-kd-test";
    public const int KeySizeBits = 256;
    public static readonly string[] AliceSaeIds = ["sae-alice-1", "sae-alice-2", "sae-alice-3"];
    public static readonly string[] BobSaeIds = ["sae-bob-1", "sae-bob-2"];

    private readonly List<HttpClient> _clients = [];

    private KmeLink(TestCertificates certificates, IKeyPool alicePool, IKeyPool bobPool)
    {
        Certificates = certificates;
        AlicePool = alicePool;
        BobPool = bobPool;
        foreach (string id in AliceSaeIds.Concat(BobSaeIds))
            SaeCertificates[id] = certificates.Client(id == "sae-alice-3" ? "alice-three.host" : id);
    }

    public TestCertificates Certificates { get; }

    public IKeyPool AlicePool { get; }

    public IKeyPool BobPool { get; }

    public Dictionary<string, X509Certificate2> SaeCertificates { get; } = [];

    public EtsiKeyDeliveryServer Alice { get; private set; } = null!;

    public EtsiKeyDeliveryServer Bob { get; private set; } = null!;

    public KeyDeliveryOptions AliceOptions { get; private set; } = null!;

    /// <summary>
    /// Starts both KMEs with <paramref name="blocks"/> blocks of <paramref name="keysPerBlock"/> keys each (half of them
    /// mastered by each KME). <paramref name="aliceNotifier"/> replaces the reservation path from Alice to Bob.
    /// </summary>
    public static async Task<KmeLink> StartAsync(TestCertificates certificates, int blocks, int keysPerBlock,
        Func<KmeRole, IKeyPool>? poolFactory = null, IReservationNotifier? aliceNotifier = null, int maxKeyPerRequest = 16,
        Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory = null, IKeyDeliveryAudit? aliceAudit = null, IKeyDeliveryAudit? bobAudit = null,
        Qkd.Kme.Hybrid.IHybridKeys? aliceHybrid = null, Qkd.Kme.Hybrid.IHybridKeys? bobHybrid = null, IReservationNotifier? bobNotifier = null)
    {
        poolFactory ??= role => new InMemoryKeyPool(role, LinkId, KeySizeBits);
        var link = new KmeLink(certificates, poolFactory(KmeRole.Alice), poolFactory(KmeRole.Bob));
        link.Feed(blocks, keysPerBlock, seed: 5);

        var aliceSaes = AliceSaeIds.Select(id => id == "sae-alice-3"
            ? new SaeIdentity(id, CertificateThumbprint: link.SaeCertificates[id].GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256))
            : new SaeIdentity(id, CertificateSubjectCn: id)).ToArray();
        var bobSaes = BobSaeIds.Select(id => new SaeIdentity(id, CertificateSubjectCn: id)).ToArray();
        link.AliceOptions = Options("KME-ALICE", "KME-BOB", aliceSaes, bobSaes, certificates, maxKeyPerRequest) with { HybridKeys = aliceHybrid };
        var bobOptions = Options("KME-BOB", "KME-ALICE", bobSaes, aliceSaes, certificates, maxKeyPerRequest) with { HybridKeys = bobHybrid };
        link.Alice = new EtsiKeyDeliveryServer(link.AliceOptions, link.AlicePool, aliceNotifier ?? new PoolReservationNotifier(link.BobPool), loggerFactory, aliceAudit);
        link.Bob = new EtsiKeyDeliveryServer(bobOptions, link.BobPool, bobNotifier ?? new PoolReservationNotifier(link.AlicePool), loggerFactory, bobAudit);
        await link.Alice.StartAsync();
        await link.Bob.StartAsync();
        return link;
    }

    private static KeyDeliveryOptions Options(string kme, string peer, SaeIdentity[] local, SaeIdentity[] remote,
        TestCertificates certificates, int maxKeyPerRequest) => new()
        {
            ListenAddress = "127.0.0.1",
            Port = 0,
            ServerCertificatePath = certificates.ServerPfxPath,
            TrustedClientCaPaths = [certificates.CaPemPath],
            KmeId = kme,
            PeerKmeId = peer,
            LocalSaes = local,
            PeerSaes = remote,
            MaxKeyPerRequest = maxKeyPerRequest,
        };

    /// <summary>Gives both pools the same distilled blocks (each its own copy, as two distillers would).</summary>
    public void Feed(int blocks, int keysPerBlock, int seed, long firstBlockId = 0)
    {
        var random = new Random(seed);
        for (long b = firstBlockId; b < firstBlockId + blocks; b++)
        {
            byte[] bytes = new byte[keysPerBlock * KeySizeBits / 8];
            random.NextBytes(bytes);
            AlicePool.Accept(b, PackedBits.FromBytes(bytes, bytes.Length * 8L));
            BobPool.Accept(b, PackedBits.FromBytes(bytes, bytes.Length * 8L));
        }
    }

    /// <summary>An HttpClient to <paramref name="server"/> presenting <paramref name="clientCertificate"/>, trusting only the test CA.</summary>
    public HttpClient Client(EtsiKeyDeliveryServer server, X509Certificate2 clientCertificate, Version? version = null)
    {
        var client = CreateClient(server.BaseAddress, clientCertificate, Certificates.Ca, version);
        lock (_clients) _clients.Add(client);
        return client;
    }

    /// <summary>An HttpClient presenting <paramref name="clientCertificate"/> and trusting only <paramref name="ca"/> for the server.</summary>
    public static HttpClient CreateClient(Uri baseAddress, X509Certificate2 clientCertificate, X509Certificate2 ca, Version? version = null)
    {
        var handler = new SocketsHttpHandler
        {
            // A request marked Expect: 100-continue waits for the server's go-ahead (or its refusal) before the body.
            Expect100ContinueTimeout = TimeSpan.FromSeconds(30),
            SslOptions = new SslClientAuthenticationOptions
            {
                // Always present this certificate, even when the server does not list its issuer (the untrusted case).
                LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCertificate,
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                {
                    if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(ca);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    using var server = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
                    return chain.Build(server);
                },
            },
        };
        var client = new HttpClient(handler) { BaseAddress = baseAddress };
        if (version is not null)
        {
            client.DefaultRequestVersion = version;
            client.DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        }
        return client;
    }

    public HttpClient Client(EtsiKeyDeliveryServer server, string saeId) => Client(server, SaeCertificates[saeId]);

    public async ValueTask DisposeAsync()
    {
        lock (_clients)
            foreach (var c in _clients) c.Dispose();
        await Alice.DisposeAsync();
        await Bob.DisposeAsync();
        AlicePool.Dispose();
        BobPool.Dispose();
    }
}
