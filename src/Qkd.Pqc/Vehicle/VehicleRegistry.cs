using System.Security.Cryptography;
using Qkd.Pqc.Algorithms;

namespace Qkd.Pqc.Vehicle;

/// <summary>
/// The gateway's side of enrolment, in a directory: <c>gateway.json</c> (the gateway's ML-DSA-65 identity) and one
/// <c>vehicles/ID.json</c> per enrolled vehicle (its pinned ML-DSA-65 public key and its session seeds). Secrets at rest
/// (the gateway's signing seed, the vehicles' seeds) are sealed with AES-256-GCM under a 32-byte storage key (the node's
/// operator key), with the file's purpose, the vehicle and the key ID as additional data, so a sealed value cannot be
/// moved to another vehicle or slot. Each change is one atomic file replacement.
/// </summary>
/// <remarks>
/// Seeds: a vehicle holds one seed; the gateway holds it too, and during a session also the next one (sent to the
/// vehicle, not yet acknowledged). A hello naming the next one proves the vehicle stored it: the older is dropped. A
/// hello naming the older (the acknowledgement was lost) keeps it and drops the unacknowledged one.
/// </remarks>
public sealed class VehicleRegistry
{
    private readonly string _directory;
    private readonly byte[] _storageKey;
    private readonly Lock _gate = new();

    public VehicleRegistry(string directory, ReadOnlySpan<byte> storageKey)
    {
        if (storageKey.Length != 32) throw new ArgumentException($"the vehicle registry's storage key is {storageKey.Length} bytes, expected 32", nameof(storageKey));
        _directory = directory;
        _storageKey = storageKey.ToArray();
        Directory.CreateDirectory(Path.Combine(directory, "vehicles"));
    }

    public string DirectoryPath => _directory;

    private string GatewayPath => Path.Combine(_directory, "gateway.json");

    private string VehiclePath(string vehicleId) => Path.Combine(_directory, "vehicles", vehicleId + ".json");

    /// <summary>The gateway's identity, created (a new ML-DSA-65 key pair from the OS CSPRNG) on first use.</summary>
    public GatewayIdentity LoadOrCreateGateway(string gatewayId, ISignatureScheme dsa)
    {
        SecretFile.RequireId(gatewayId, "gateway ID");
        lock (_gate)
        {
            if (File.Exists(GatewayPath))
            {
                var file = SecretFile.Read(GatewayPath, VehicleJson.Default.GatewayIdentityFile, "gateway identity");
                if (file.GatewayId != gatewayId)
                    throw new VehicleProtocolException($"{GatewayPath} is the identity of gateway '{file.GatewayId}', not '{gatewayId}'");
                byte[] seed = Open(SecretFile.Base64(file.SealedSigningSeed, "sealedSigningSeed", GatewayPath),
                    SecretFile.Base64(file.Nonce, "nonce", GatewayPath), Aad("gateway", gatewayId, Guid.Empty), GatewayPath);
                return new GatewayIdentity(gatewayId, SecretFile.Base64(file.PublicKey, "publicKey", GatewayPath), seed);
            }
            using var pair = dsa.GenerateKeyPair();
            var (nonce, sealedSeed) = Seal(pair.PrivateSeed, Aad("gateway", gatewayId, Guid.Empty));
            SecretFile.Write(GatewayPath, new GatewayIdentityFile(gatewayId, Convert.ToBase64String(pair.PublicKey),
                Convert.ToBase64String(nonce), Convert.ToBase64String(sealedSeed)), VehicleJson.Default.GatewayIdentityFile);
            return new GatewayIdentity(gatewayId, pair.PublicKey, (byte[])pair.PrivateSeed.Clone());
        }
    }

    /// <summary>Enrols a vehicle: pins its public key and stores its first seed. Refuses a vehicle already enrolled.</summary>
    public void Register(string vehicleId, byte[] publicKey, Guid seedId, ReadOnlySpan<byte> seed)
    {
        SecretFile.RequireId(vehicleId, "vehicle ID");
        lock (_gate)
        {
            if (File.Exists(VehiclePath(vehicleId)))
                throw new VehicleProtocolException($"vehicle '{vehicleId}' is already enrolled ({VehiclePath(vehicleId)}); remove that file to enrol it again");
            var (nonce, sealedSeed) = Seal(seed, Aad("seed", vehicleId, seedId));
            Write(new VehicleRegistrationFile(vehicleId, Convert.ToBase64String(publicKey),
                [new SealedSeed(seedId, Convert.ToBase64String(nonce), Convert.ToBase64String(sealedSeed))]));
        }
    }

    /// <summary>The vehicle's pinned ML-DSA public key, or null when it is not enrolled.</summary>
    public byte[]? PublicKeyOf(string vehicleId)
    {
        if (!IsValidId(vehicleId)) return null;
        lock (_gate)
        {
            var file = TryRead(vehicleId);
            return file is null ? null : SecretFile.Base64(file.PublicKey, "publicKey", VehiclePath(vehicleId));
        }
    }

    /// <summary>The seed the vehicle named in its hello (the caller zeroises it), or null when the gateway holds no such seed. Drops every other seed.</summary>
    public byte[]? UseSeed(string vehicleId, Guid seedId)
    {
        lock (_gate)
        {
            var file = TryRead(vehicleId);
            var seed = file?.Seeds.FirstOrDefault(s => s.KeyId == seedId);
            if (file is null || seed is null) return null;
            byte[] key = Open(seed, vehicleId);
            if (file.Seeds.Count > 1) Write(file with { Seeds = [seed] });
            return key;
        }
    }

    /// <summary>Stores the next seed beside the current one, durably, before it is sent to the vehicle.</summary>
    public void AddSeed(string vehicleId, Guid seedId, ReadOnlySpan<byte> seed)
    {
        lock (_gate)
        {
            var file = TryRead(vehicleId) ?? throw new VehicleProtocolException($"vehicle '{vehicleId}' is not enrolled");
            var (nonce, sealedSeed) = Seal(seed, Aad("seed", vehicleId, seedId));
            var seeds = file.Seeds.Take(1).ToList();
            seeds.Add(new SealedSeed(seedId, Convert.ToBase64String(nonce), Convert.ToBase64String(sealedSeed)));
            Write(file with { Seeds = seeds });
        }
    }

    /// <summary>The vehicle stored <paramref name="seedId"/>: it is the only seed kept.</summary>
    public void ConfirmSeed(string vehicleId, Guid seedId)
    {
        lock (_gate)
        {
            var file = TryRead(vehicleId);
            var seed = file?.Seeds.FirstOrDefault(s => s.KeyId == seedId);
            if (file is null || seed is null || file.Seeds.Count == 1) return;
            Write(file with { Seeds = [seed] });
        }
    }

    /// <summary>The seed IDs held for a vehicle, current first (for status and tests).</summary>
    public IReadOnlyList<Guid> SeedIds(string vehicleId)
    {
        lock (_gate) return TryRead(vehicleId)?.Seeds.Select(s => s.KeyId).ToList() ?? [];
    }

    private static bool IsValidId(string id)
    {
        try
        {
            SecretFile.RequireId(id, "vehicle ID");
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private VehicleRegistrationFile? TryRead(string vehicleId)
    {
        string path = VehiclePath(vehicleId);
        return File.Exists(path) ? SecretFile.Read(path, VehicleJson.Default.VehicleRegistrationFile, "vehicle registration") : null;
    }

    private void Write(VehicleRegistrationFile file) => SecretFile.Write(VehiclePath(file.VehicleId), file, VehicleJson.Default.VehicleRegistrationFile);

    private byte[] Open(SealedSeed seed, string vehicleId)
    {
        string path = VehiclePath(vehicleId);
        return Open(SecretFile.Base64(seed.Sealed, "sealed", path), SecretFile.Base64(seed.Nonce, "nonce", path), Aad("seed", vehicleId, seed.KeyId), path);
    }

    private static byte[] Aad(string purpose, string owner, Guid keyId) =>
        SecretFile.Utf8($"qkd-vehicle-registry/v1|{purpose}|{owner}|{keyId:D}");

    private (byte[] Nonce, byte[] Sealed) Seal(ReadOnlySpan<byte> secret, byte[] aad)
    {
        byte[] nonce = RandomNumberGenerator.GetBytes(12);
        byte[] sealedBytes = new byte[secret.Length + 16];
        using var aes = new AesGcm(_storageKey, 16);
        aes.Encrypt(nonce, secret, sealedBytes.AsSpan(0, secret.Length), sealedBytes.AsSpan(secret.Length), aad);
        return (nonce, sealedBytes);
    }

    private byte[] Open(byte[] sealedBytes, byte[] nonce, byte[] aad, string path)
    {
        if (sealedBytes.Length < 16 || nonce.Length != 12) throw new VehicleProtocolException($"{path}: a sealed secret is malformed");
        byte[] secret = new byte[sealedBytes.Length - 16];
        try
        {
            using var aes = new AesGcm(_storageKey, 16);
            aes.Decrypt(nonce, sealedBytes.AsSpan(0, secret.Length), sealedBytes.AsSpan(secret.Length), secret, aad);
            return secret;
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new VehicleProtocolException($"{path}: a sealed secret does not open with this storage key (another node's operator key, or the file was altered)");
        }
    }
}

/// <summary>The gateway's ID and ML-DSA-65 key pair (dispose to zeroise the seed).</summary>
public sealed class GatewayIdentity(string gatewayId, byte[] publicKey, byte[] signingSeed) : IDisposable
{
    public string GatewayId { get; } = gatewayId;

    public byte[] PublicKey { get; } = publicKey;

    internal byte[] SigningSeed { get; } = signingSeed;

    public void Dispose() => CryptographicOperations.ZeroMemory(SigningSeed);
}
