using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Qkd.Kme.Delivery;
using Qkd.Kme.Pool;
using Qkd.Pqc.Vehicle;

namespace Qkd.Kme.Vehicle;

/// <summary>
/// Node config section "vehicleGateway": serve keys from this node's pool to enrolled vehicle key modules over the
/// post-quantum channel. <paramref name="Listen"/> is an IP address and port ("0.0.0.0:7443"); <paramref name="Registry"/>
/// the folder of enrolled vehicles (relative to the config; <c>qkd vehicle enrol</c> writes it);
/// <paramref name="PeerSaeId"/> the SAE at the peer KME the vehicles' keys are reserved for (it fetches them by dec_keys).
/// The registry's secrets are sealed with a key derived from the node's operator key.
/// </summary>
public sealed record VehicleGatewayConfig(string Listen, string GatewayId, string Registry, string PeerSaeId)
{
    /// <summary>The registry, its secrets sealed under HKDF-SHA256(operator key, "qkd-vehicle-registry/v1").</summary>
    public VehicleRegistry OpenRegistry(OperatorKey operatorKey, Func<string, string> pathOf)
    {
        Span<byte> key = stackalloc byte[32];
        try
        {
            HKDF.DeriveKey(HashAlgorithmName.SHA256, operatorKey.Bytes, key, [], "qkd-vehicle-registry/v1"u8);
            return new VehicleRegistry(pathOf(Registry), key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>Starts the gateway on <see cref="Listen"/> (the caller disposes it). Errors name the setting.</summary>
    public VehicleGateway Start(IKeyPool pool, IReservationNotifier notifier, OperatorKey operatorKey, Func<string, string> pathOf, ILogger logger)
    {
        if (!IPEndPoint.TryParse(Listen, out var endpoint) || endpoint.Port == 0)
            throw new InvalidDataException($"vehicleGateway.listen '{Listen}' is not an IP address and port (e.g. 0.0.0.0:7443)");
        if (string.IsNullOrEmpty(PeerSaeId)) throw new InvalidDataException("vehicleGateway.peerSaeId is empty");
        var gateway = new VehicleGateway(endpoint, OpenRegistry(operatorKey, pathOf), GatewayId, new PoolVehicleKeySource(pool, notifier, PeerSaeId), logger);
        gateway.Start();
        return gateway;
    }
}
