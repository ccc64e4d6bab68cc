using Qkd.Kme.Pool;

namespace Qkd.Status;

/// <summary>The key manager's pool as the status page shows it: counts of keys, never key material.</summary>
/// <param name="AvailableAsMaster">Keys this KME can hand out to its applications (enc_keys).</param>
/// <param name="HeldForPeer">Keys held for the peer's applications (dec_keys).</param>
/// <param name="Capacity">The most keys the pool stores (further keys are dropped and counted).</param>
/// <param name="KeyBits">Bits per key.</param>
public sealed record KeyPoolSizes(long AvailableAsMaster, long HeldForPeer, long Capacity, int KeyBits)
{
    /// <summary>The sizes of a node's pool now (two counts the pool keeps in memory: no database query per request).</summary>
    public static KeyPoolSizes Of(SqliteKeyPool pool) => new(pool.AvailableAsMaster, pool.HeldForPeer, pool.MaxKeyCount, pool.KeySizeBits);
}
