using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Qkd.ClassicalChannel;
using Qkd.Kme.Delivery;
using Qkd.Kme.Pool;
using Qkd.Node.Devices;
using Qkd.Node.Link;

namespace Qkd.Node.Service;

/// <summary>
/// Writes a complete two-node emulated deployment into a folder (`qkd node init`): the pre-shared authentication
/// secret both nodes hold, one operator key per node (key material at rest), a private CA with a server certificate
/// per KME and a client certificate per SAE (PEM, for curl, and PKCS#12), and alice.json / bob.json. For trying the
/// link out and for tests; a production site issues certificates from its own CA and moves the secret out of band.
/// </summary>
public static class NodeSetup
{
    public const string MasterSae = "sae-alice-1";

    /// <summary>Link time per session on a link bench (about a MHz of pulses): long enough to distil a block of <see cref="BenchBlockSizeBits"/>.</summary>
    public const double BenchSessionSeconds = 30;

    /// <summary>
    /// Block size on a link bench: 2^19 sifted bits, about 20 s of a 1 MHz, 2 km bench; smaller blocks get no key from the
    /// finite-key analysis at that rate (measured with 2^16 and 2^17).
    /// </summary>
    public const long BenchBlockSizeBits = 1L << 19;
    public const string SlaveSae = "sae-bob-1";

    /// <summary>Ports from <paramref name="basePort"/>: +0/+1 classical channel and KME link, +2 fibre, +3 Alice's and +4 Bob's key delivery.</summary>
    /// <param name="benchDirectory">A link bench (`qkd emulate --link-bench`, see <see cref="EmulatedLinkBench"/>): the
    /// configs name its devices ("devices") and carry its link and receiver settings instead of an emulator section.</param>
    public static (string AliceConfig, string BobConfig) Write(string directory, int basePort = 7100, double durationSeconds = 1.0, int sessions = 1,
        long blockSizeBits = 1L << 23, double? distanceKm = null, string? benchDirectory = null)
    {
        // Read the bench first: a bad bench folder leaves nothing written.
        var bench = benchDirectory is null ? ((DeviceBench, DeviceBench, LinkSettings, ReceiverSettings)?)null : EmulatedLinkBench.Read(benchDirectory);
        Directory.CreateDirectory(directory);
        string Path(string name) => System.IO.Path.Combine(directory, name);

        // Hash key + pad: 4 MiB, about 260,000 tags: a 2^23-bit block costs about 2,800 tagged messages (0.36 Mbit of pad), so this lasts ~90 blocks without replenishment.
        WritePrivate(Path("pre-shared.secret"), RandomNumberGenerator.GetBytes(4 << 20));
        OperatorKey.WriteNewKeyFile(Path("alice-operator.key"));
        OperatorKey.WriteNewKeyFile(Path("bob-operator.key"));
        foreach (string role in new[] { "alice", "bob" }) Audit.AuditKey.WriteNewKeyFile(Path($"{role}-audit.key"));
        // ML-KEM-768 key pairs for hybrid keys: each end's public key is pinned in the other's config here, at init.
        Kme.Hybrid.HybridKeysConfig.WriteNewKeyPair(Path("alice-kem.key"), Path("alice-kem.pub"));
        Kme.Hybrid.HybridKeysConfig.WriteNewKeyPair(Path("bob-kem.key"), Path("bob-kem.pub"));

        // One clock reading for every certificate: a leaf must never outlive its CA, even by the milliseconds between calls.
        var now = DateTimeOffset.UtcNow;
        using var ca = CertificateIssuer.CreateCa("QkdDriver demo CA", now.AddDays(-1), now.AddYears(2));
        File.WriteAllText(Path("ca.pem"), ca.ExportCertificatePem());
        Issue(ca, now, "kme-alice", server: true, Path("kme-alice"));
        Issue(ca, now, "kme-bob", server: true, Path("kme-bob"));
        Issue(ca, now, MasterSae, server: false, Path(MasterSae));
        Issue(ca, now, SlaveSae, server: false, Path(SlaveSae));

        string channel = $"127.0.0.1:{basePort}", kmeLink = $"127.0.0.1:{basePort + 1}", fibre = $"127.0.0.1:{basePort + 2}";
        NodeConfig Config(string role, string kme, string peerKme, int restPort, string localSae, string peerSae) => new()
        {
            Role = role,
            LinkId = "demo-link",
            ClassicalChannel = new ClassicalChannelConfig(channel, "pre-shared.secret", $"{role}-state", kmeLink),
            KeyPool = new KeyPoolConfig($"{role}-keys.db", OperatorKeyFile: $"{role}-operator.key"),
            Hybrid = new Kme.Hybrid.HybridKeysConfig($"{role}-kem.key", $"{(role == "alice" ? "bob" : "alice")}-kem.pub", $"{role}-hybrid.db"),
            KeyDelivery = new KeyDeliveryOptions
            {
                Port = restPort,
                ServerCertificatePath = $"{kme}.pfx",
                TrustedClientCaPaths = ["ca.pem"],
                KmeId = kme.ToUpperInvariant(),
                PeerKmeId = peerKme.ToUpperInvariant(),
                LocalSaes = [new SaeIdentity(localSae, CertificateSubjectCn: localSae)],
                PeerSaes = [new SaeIdentity(peerSae, CertificateSubjectCn: peerSae)],
            },
            Emulator = bench is null ? new EmulatorConfig(fibre, DistanceKm: distanceKm) : null,
            Devices = bench is not { } b ? null : role == "alice" ? b.Item1 with { Description = null } : b.Item2 with { Description = null },
            Link = bench?.Item3,
            Receiver = role == "bob" ? bench?.Item4 : null,
            DurationSeconds = durationSeconds,
            Sessions = sessions,
            BlockSizeBits = blockSizeBits,
            Audit = new Audit.AuditLogOptions($"{role}-audit.jsonl", $"{role}-audit.key"),
        };
        string alice = Path("alice.json"), bob = Path("bob.json");
        File.WriteAllText(alice, JsonSerializer.Serialize(Config("alice", "kme-alice", "kme-bob", basePort + 3, MasterSae, SlaveSae), NodeJson.Config));
        File.WriteAllText(bob, JsonSerializer.Serialize(Config("bob", "kme-bob", "kme-alice", basePort + 4, SlaveSae, MasterSae), NodeJson.Config));
        return (alice, bob);
    }

    /// <summary>A certificate issued by the CA: name.crt / name.key (PEM) and name.pfx (PKCS#12, no password).</summary>
    private static void Issue(X509Certificate2 ca, DateTimeOffset now, string commonName, bool server, string pathWithoutExtension)
    {
        using var certificate = CertificateIssuer.Issue(ca, commonName, server, now.AddHours(-1), now.AddYears(1));
        using var key = certificate.GetECDsaPrivateKey()!;
        File.WriteAllText(pathWithoutExtension + ".crt", certificate.ExportCertificatePem());
        WritePrivate(pathWithoutExtension + ".key", System.Text.Encoding.ASCII.GetBytes(key.ExportPkcs8PrivateKeyPem()));
        WritePrivate(pathWithoutExtension + ".pfx", certificate.Export(X509ContentType.Pkcs12));
    }

    private static void WritePrivate(string path, byte[] bytes)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var file = new FileStream(path, options)) file.Write(bytes);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        CryptographicOperations.ZeroMemory(bytes);
    }
}
