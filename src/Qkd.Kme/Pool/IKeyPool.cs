using Qkd.Core.Keys;

namespace Qkd.Kme.Pool;

/// <summary>
/// One KME's durable pool of distilled keys, shared with the peer KME key for key under the same IDs, and the rules of
/// ETSI GS QKD 014 delivery. As an <see cref="IKeySink"/> it takes every final block from the distiller and cuts it
/// into keys of <see cref="KeySizeBits"/> with IDs both ends derive alike (<see cref="KeyIds"/>), so the two pools agree
/// without talking.
/// </summary>
/// <remarks>
/// <para>Directions. Key unit i of a block belongs to the KME whose role is <see cref="KeyIds.MasterOf"/>: even units
/// to Alice's KME, odd units to Bob's. A KME hands out by enc_keys (to a master SAE attached to it) only keys it is
/// master of, and by dec_keys (to a slave SAE attached to it) only keys whose master is the peer, so the two ends can
/// never hand the same key to two masters.</para>
/// <para>Once only. enc_keys removes the keys from the master side's pool (delivered) and, in the same transaction,
/// puts the reservation in the pool's outbox (<see cref="OutstandingReservations"/>); the peer learns the reservation
/// through <see cref="RecordPeerReservation"/> (sent over the authenticated KME link) and, once it has, the master
/// forgets it (<see cref="ForgetReservationAsync"/>). An outbox entry is sent again whenever the link comes back, and
/// recording is idempotent, so a reservation cut half-way always ends recorded at the slave: a key is deliverable at
/// both ends or gone at both. dec_keys hands each reserved key to that slave SAE exactly once, then deletes it
/// and zeroises its bytes; a reservation its slave SAE does not redeem within the pool's expiry is deleted with its key.
/// Every change is one transaction: a process killed at any point restarts with no key lost and none delivered twice.</para>
/// <para>Keys at rest are encrypted with the operator's key; returned key bytes are the caller's to zeroise.</para>
/// </remarks>
public interface IKeyPool : IKeySink, IDisposable
{
    /// <summary>This KME's role in the key split: "alice" or "bob".</summary>
    KmeRole Role { get; }

    /// <summary>Size of every key in the pool, bits (ETSI key_size; min = max = this).</summary>
    int KeySizeBits { get; }

    /// <summary>The most keys the pool holds (new keys beyond it are not stored, and counted).</summary>
    long MaxKeyCount { get; }

    /// <summary>Keys this KME can still hand out by enc_keys (it is their master, not yet delivered).</summary>
    long AvailableAsMaster { get; }

    /// <summary>Keys whose master is the peer, held for dec_keys (reserved or not yet reserved).</summary>
    long HeldForPeer { get; }

    /// <summary>
    /// enc_keys: takes <paramref name="count"/> keys this KME is master of, in ID order, marks them delivered and
    /// reserved for <paramref name="slaveSaeId"/>, and returns them (bytes decrypted; the caller zeroises them).
    /// </summary>
    /// <exception cref="KeyPoolExhaustedException">Fewer than <paramref name="count"/> keys are available; nothing is taken.</exception>
    IReadOnlyList<DeliveredKey> TakeAsMaster(string masterSaeId, string slaveSaeId, int count);

    /// <summary>The peer's enc_keys reserved these keys (whose master is the peer) for <paramref name="slaveSaeId"/>.</summary>
    void RecordPeerReservation(string masterSaeId, string slaveSaeId, IReadOnlyList<Guid> keyIds);

    /// <summary>
    /// dec_keys: returns the keys with these IDs to <paramref name="slaveSaeId"/>, each exactly once, then deletes them.
    /// All or nothing.
    /// </summary>
    /// <exception cref="KeyNotFoundException">An ID is unknown, already delivered, or reserved for another SAE or master; nothing is taken.</exception>
    IReadOnlyList<DeliveredKey> TakeAsSlave(string masterSaeId, string slaveSaeId, IReadOnlyList<Guid> keyIds);

    // The same operations for callers that must not block a thread while the store commits (the key delivery server,
    // the classical channel). A durable pool overrides them; an in-memory one may keep these synchronous defaults.

    /// <inheritdoc cref="TakeAsMaster"/>
    ValueTask<IReadOnlyList<DeliveredKey>> TakeAsMasterAsync(string masterSaeId, string slaveSaeId, int count) =>
        new(TakeAsMaster(masterSaeId, slaveSaeId, count));

    /// <inheritdoc cref="RecordPeerReservation"/>
    ValueTask RecordPeerReservationAsync(string masterSaeId, string slaveSaeId, IReadOnlyList<Guid> keyIds)
    {
        RecordPeerReservation(masterSaeId, slaveSaeId, keyIds);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc cref="TakeAsSlave"/>
    ValueTask<IReadOnlyList<DeliveredKey>> TakeAsSlaveAsync(string masterSaeId, string slaveSaeId, IReadOnlyList<Guid> keyIds) =>
        new(TakeAsSlave(masterSaeId, slaveSaeId, keyIds));

    // The reservation outbox and block-aware recording (see the remarks). A pool without a durable outbox (the test
    // pool in memory) keeps these defaults: nothing outstanding, blocks ignored.

    /// <summary>
    /// The peer's reservation, with each key's block: recorded like <see cref="RecordPeerReservation"/>, except that a
    /// key whose block this pool stored and whose key it no longer holds (handed out, expired or discarded) is skipped,
    /// not recorded again: the peer repeating a reservation after a lost answer never brings a key back. Idempotent.
    /// </summary>
    /// <exception cref="ReservationRefusedException">A key is reserved for another SAE pair, or its block was dropped here (pool full); nothing recorded.</exception>
    ValueTask RecordPeerReservationAsync(string masterSaeId, string slaveSaeId, IReadOnlyList<ReservedKey> keys)
    {
        var ids = new Guid[keys.Count];
        for (int i = 0; i < ids.Length; i++) ids[i] = keys[i].Id;
        return RecordPeerReservationAsync(masterSaeId, slaveSaeId, ids);
    }

    /// <summary>Reservations this KME made by enc_keys that the peer has not confirmed yet, oldest first.</summary>
    IReadOnlyList<OutgoingReservation> OutstandingReservations() => [];

    /// <summary>The peer answered the reservation named by its first key (recorded, or refused for good): it leaves the outbox.</summary>
    ValueTask ForgetReservationAsync(Guid reservationId) => ValueTask.CompletedTask;
}

public enum KmeRole
{
    Alice,
    Bob,
}

/// <summary>A key handed out: its ID and its bytes (the receiver zeroises them once written out), and its block when the pool knows it.</summary>
public sealed record DeliveredKey(Guid Id, byte[] Key)
{
    public long? BlockId { get; init; }
}

/// <summary>The pool has fewer keys than asked for (ETSI: 503).</summary>
public sealed class KeyPoolExhaustedException(int requested, long available)
    : Exception($"{requested} keys requested, {available} available")
{
    public int Requested { get; } = requested;

    public long Available { get; } = available;
}
