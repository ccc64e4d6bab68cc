using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Qkd.ClassicalChannel;
using Qkd.Kme.Delivery;
using Qkd.Kme.Pool;

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
    public const string SlaveSae = "sae-bob-1";

    /// <summary>Ports from <paramref name="basePort"/>: +0/+1 classical channel and KME link, +2 fibre, +3 Alice's and +4 Bob's key delivery.</summary>
    public static (string AliceConfig, string BobConfig) Write(string directory, int basePort = 7100, double durationSeconds = 1.0, int sessions = 1,
        long blockSizeBits = 1L << 23, double? distanceKm = null)
    {
        Directory.CreateDirectory(directory);
        string Path(string name) => System.IO.Path.Combine(directory, name);

        // Hash key + pad: 4 MiB, about 260,000 tags: a 2^23-bit block costs about 2,800 tagged messages (0.36 Mbit of pad), so this lasts ~90 blocks without replenishment.
        WritePrivate(Path("pre-shared.secret"), RandomNumberGenerator.GetBytes(4 << 20));
        OperatorKey.WriteNewKeyFile(Path("alice-operator.key"));
        OperatorKey.WriteNewKeyFile(Path("bob-operator.key"));

        // One clock reading for every certificate: a leaf must never outlive its CA, even by the milliseconds between calls.
        var now = DateTimeOffset.UtcNow;
        using var ca = CertificateIssuer.CreateCa("QkdDriver demo CA", now.AddDays(-1), now.AddYears(2));
        File.WriteAllText(Path("ca.pem"), ca.ExportCertificatePem());
        Issue(ca, now, "kme-alice", server: true, Path("kme-alice"));
        Issue(ca, now, "kme-bob", server: true, Path("kme-bob"));
        Issue(ca, now, MasterSae, server: false, Path(MasterSae));
        Issue(ca, now, SlaveSae, server: false, Path(SlaveSae));

        string channel = $"127.0.0.1:{basePort}", fibre = $"127.0.0.1:{basePort + 2}";
        NodeConfig Config(string role, string kme, string peerKme, int restPort, string localSae, string peerSae) => new()
        {
            Role = role,
            LinkId = "demo-link",
            ClassicalChannel = new ClassicalChannelConfig(channel, "pre-shared.secret", $"{role}-state"),
            KeyPool = new KeyPoolConfig($"{role}-keys.db", OperatorKeyFile: $"{role}-operator.key"),
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
            Emulator = new EmulatorConfig(fibre, DistanceKm: distanceKm),
            DurationSeconds = durationSeconds,
            Sessions = sessions,
            BlockSizeBits = blockSizeBits,
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
