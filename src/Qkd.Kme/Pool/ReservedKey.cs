namespace Qkd.Kme.Pool;

/// <summary>
/// A key named in a reservation: its ID and the block it came from. The block lets the slave's KME tell a reservation
/// that arrives before its block (recorded, waiting for the block) from one repeated after the key was already handed
/// out or expired (nothing to record). Null when the sender did not say (the reservation is then always recorded).
/// </summary>
public readonly record struct ReservedKey(Guid Id, long? BlockId);
