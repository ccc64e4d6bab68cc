namespace Qkd.Pqc.Vehicle;

/// <summary>
/// Where a vehicle gateway takes keys from: the node's QKD key pool (<c>Qkd.Kme.Vehicle.PoolVehicleKeySource</c>).
/// Each key is taken once and removed from the pool before it is returned; the bytes are the caller's to zeroise.
/// </summary>
public interface IVehicleKeySource
{
    /// <summary>Size of every key, bytes.</summary>
    int KeyBytes { get; }

    /// <summary>Keys for delivery to <paramref name="vehicleId"/> (its application uses them).</summary>
    /// <exception cref="VehicleKeysUnavailableException">Fewer keys than asked, or the pool cannot hand them out now; nothing taken.</exception>
    ValueTask<IReadOnlyList<VehicleKey>> TakeForVehicleAsync(string vehicleId, int count, CancellationToken cancellationToken);

    /// <summary>One key to become the vehicle's next session seed (known to the gateway and the vehicle only).</summary>
    /// <exception cref="VehicleKeysUnavailableException">The pool has none now.</exception>
    ValueTask<VehicleKey> TakeSeedAsync(string vehicleId, CancellationToken cancellationToken);
}

/// <summary>A key with its ID (the pool's key ID). The holder zeroises <see cref="Key"/> once used.</summary>
public sealed record VehicleKey(Guid Id, byte[] Key);

/// <summary>The key source cannot hand out keys now (pool short, or its peer unreachable). The message names why, never a key.</summary>
public sealed class VehicleKeysUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
