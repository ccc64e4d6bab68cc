namespace Qkd.Kme.Pool;

/// <summary>
/// A snapshot of a pool's contents and lifetime counters. The counters are stored in the same transactions as the keys,
/// so they survive restarts and a crash never leaves them out of step:
/// KeysStored = AvailableAsMaster + HeldForPeer + KeysDeliveredAsMaster + KeysDeliveredAsSlave + KeysDiscarded + KeysExpired.
/// </summary>
/// <param name="KeysExpired">Keys held for a slave SAE that did not redeem them within the pool's reservation expiry, deleted.</param>
/// <param name="ReservationsExpired">Peer reservations expired (with their key, or waiting for a block that never came).</param>
/// <param name="ReservationsOutstanding">This KME's enc_keys reservations not yet confirmed by the peer (the outbox).</param>
public sealed record KeyPoolStatistics(
    long AvailableAsMaster,
    long HeldForPeer,
    long PeerReservationsPending,
    long MaxKeyCount,
    long BlocksStored,
    long BlocksDuplicate,
    long BlocksDroppedFull,
    long KeysStored,
    long KeysDroppedFull,
    long RemainderBitsDropped,
    long KeysDeliveredAsMaster,
    long KeysDeliveredAsSlave,
    long ReservationsRecorded,
    long KeysDiscarded = 0,
    long KeysExpired = 0,
    long ReservationsExpired = 0,
    long ReservationsOutstanding = 0)
{
    /// <summary>True when the stored counters agree with the rows present (a crash never breaks this).</summary>
    public bool IsConsistent => KeysStored == AvailableAsMaster + HeldForPeer + KeysDeliveredAsMaster + KeysDeliveredAsSlave + KeysDiscarded + KeysExpired;
}
