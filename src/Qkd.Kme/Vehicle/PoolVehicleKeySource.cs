using System.Security.Cryptography;
using Qkd.Kme.Delivery;
using Qkd.Kme.Pool;
using Qkd.Pqc.Vehicle;

namespace Qkd.Kme.Vehicle;

/// <summary>
/// The vehicle gateway's keys from this KME's pool, as enc_keys takes them: keys this KME is master of, removed from the
/// pool and reserved at the peer KME over the KME link before they are handed out. A vehicle's keys are reserved for the
/// SAE at the peer named by <c>vehicleGateway.peerSaeId</c> (master SAE: the vehicle's ID), which can fetch the same keys
/// by dec_keys. A vehicle's seeds are reserved for the pseudo-SAE <c>vehicle-seed:ID</c>, which no certificate names, so
/// no one at the peer ever redeems them; they expire there like any unredeemed reservation.
/// </summary>
public sealed class PoolVehicleKeySource(IKeyPool pool, IReservationNotifier notifier, string peerSaeId) : IVehicleKeySource
{
    public int KeyBytes => pool.KeySizeBits / 8;

    public async ValueTask<IReadOnlyList<VehicleKey>> TakeForVehicleAsync(string vehicleId, int count, CancellationToken cancellationToken)
    {
        var keys = await TakeAsync(vehicleId, peerSaeId, count, cancellationToken).ConfigureAwait(false);
        return keys.Select(k => new VehicleKey(k.Id, k.Key)).ToList();
    }

    public async ValueTask<VehicleKey> TakeSeedAsync(string vehicleId, CancellationToken cancellationToken)
    {
        var keys = await TakeAsync(vehicleId, "vehicle-seed:" + vehicleId, 1, cancellationToken).ConfigureAwait(false);
        return new VehicleKey(keys[0].Id, keys[0].Key);
    }

    private async ValueTask<IReadOnlyList<DeliveredKey>> TakeAsync(string master, string slave, int count, CancellationToken cancellationToken)
    {
        if (!notifier.IsPeerReachable)
            throw new VehicleKeysUnavailableException("the KME link to the peer KME is down; no key was taken");
        IReadOnlyList<DeliveredKey> keys;
        try
        {
            keys = await pool.TakeAsMasterAsync(master, slave, count).ConfigureAwait(false);
        }
        catch (KeyPoolExhaustedException e)
        {
            throw new VehicleKeysUnavailableException($"{e.Requested} keys asked, {e.Available} available in the node's pool");
        }
        try
        {
            var reserved = keys.Select(k => new ReservedKey(k.Id, k.BlockId)).ToArray();
            await notifier.NotifyAsync(master, slave, reserved, cancellationToken).ConfigureAwait(false);
            return keys;
        }
        catch (Exception e)
        {
            // Taken but not confirmed at the peer: never handed out (as enc_keys), the reservation expires there.
            foreach (var key in keys) CryptographicOperations.ZeroMemory(key.Key);
            if (e is OperationCanceledException) throw;
            throw new VehicleKeysUnavailableException("the peer KME did not confirm the reservation; these keys are not handed out", e);
        }
    }
}
