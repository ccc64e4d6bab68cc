using System.Security.Cryptography;
using Qkd.Pqc.Algorithms;

namespace Qkd.Pqc.Vehicle;

/// <summary>
/// Enrols a vehicle's key module at its gateway, in the depot: a new ML-DSA-65 key pair for the vehicle (OS CSPRNG), both
/// public keys pinned (the vehicle's in the gateway's registry, the gateway's in the vehicle's credentials), and a
/// first 32-byte session seed from the OS CSPRNG that reaches the vehicle only in its credentials file, never over a
/// network. Every later seed is a QKD key from the node's pool, handed over inside a session.
/// </summary>
public static class VehicleEnrolment
{
    public static VehicleCredentials Enrol(VehicleRegistry registry, string gatewayId, string vehicleId, ISignatureScheme? dsa = null)
    {
        dsa ??= PostQuantum.MlDsa65;
        SecretFile.RequireId(vehicleId, "vehicle ID");
        using var gateway = registry.LoadOrCreateGateway(gatewayId, dsa);
        using var vehicle = dsa.GenerateKeyPair();
        byte[] seed = RandomNumberGenerator.GetBytes(32);
        try
        {
            var seedId = Guid.NewGuid();
            registry.Register(vehicleId, vehicle.PublicKey, seedId, seed);
            return new VehicleCredentials(vehicleId, gatewayId, Convert.ToBase64String(gateway.PublicKey),
                Convert.ToBase64String(vehicle.PrivateSeed), seedId, Convert.ToBase64String(seed));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>Writes the vehicle's credentials (mode 0600, atomic replace): to be carried to the vehicle's key module.</summary>
    public static void Save(VehicleCredentials credentials, string path) => SecretFile.Write(path, credentials, VehicleJson.Default.VehicleCredentials);

    public static VehicleCredentials Load(string path) => SecretFile.Read(path, VehicleJson.Default.VehicleCredentials, "vehicle credentials");
}
