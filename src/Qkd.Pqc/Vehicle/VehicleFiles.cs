using System.Text.Json.Serialization;

namespace Qkd.Pqc.Vehicle;

/// <summary>A vehicle's enrolment as the gateway keeps it: its pinned ML-DSA public key and its session seeds (sealed).</summary>
public sealed record VehicleRegistrationFile(string VehicleId, string PublicKey, List<SealedSeed> Seeds);

/// <summary>A seed at rest at the gateway: its key ID and the key sealed with AES-256-GCM under the registry's storage key.</summary>
public sealed record SealedSeed(Guid KeyId, string Nonce, string Sealed);

/// <summary>The gateway's identity at rest: its ID, its public key and its ML-DSA seed (sealed like the seeds).</summary>
public sealed record GatewayIdentityFile(string GatewayId, string PublicKey, string Nonce, string SealedSigningSeed);

/// <summary>
/// What a vehicle's key module holds (its file, mode 0600): its ID, the gateway it talks to and that gateway's pinned
/// ML-DSA public key, its own ML-DSA seed, and the current session seed. All byte fields base64.
/// </summary>
public sealed record VehicleCredentials(string VehicleId, string GatewayId, string GatewayPublicKey, string SigningSeed, Guid SeedId, string Seed);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(VehicleRegistrationFile))]
[JsonSerializable(typeof(GatewayIdentityFile))]
[JsonSerializable(typeof(VehicleCredentials))]
internal sealed partial class VehicleJson : JsonSerializerContext;
