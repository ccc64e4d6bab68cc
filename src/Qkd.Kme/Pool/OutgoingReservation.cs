namespace Qkd.Kme.Pool;

/// <summary>
/// An enc_keys reservation this KME made as master and the peer KME has not yet confirmed: kept durably (the pool's
/// outbox, written in the same transaction that took the keys) until the peer answers, and sent again every time the
/// KME link comes back, so a reservation cut half-way by a crash or a lost link always reaches the peer. Named by its
/// first key (<see cref="Id"/>): keys are taken once, so no two reservations share it.
/// </summary>
public sealed record OutgoingReservation(string MasterSaeId, string SlaveSaeId, IReadOnlyList<ReservedKey> Keys, DateTimeOffset TakenAt)
{
    public Guid Id => Keys[0].Id;
}
