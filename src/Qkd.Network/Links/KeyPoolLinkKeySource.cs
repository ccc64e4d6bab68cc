using System.Security.Cryptography;
using Qkd.Kme.Pool;

namespace Qkd.Network.Links;

/// <summary>
/// A link's key for the relay, from that link's KME key pool (<see cref="IKeyPool"/>): the sender takes keys it is
/// master of, reserved for the pseudo SAEs <c>relay.{this node}</c> → <c>relay.{neighbour}</c>; the receiver records
/// that reservation from the message itself and takes the keys as slave. Both are one pool transaction each, so the
/// pool's own rules hold: a key leaves the pool once, at each end, and a key named a second time (a replay) is refused.
/// </summary>
/// <remarks>
/// The pool cuts key in units of <see cref="IKeyPool.KeySizeBits"/>; a request is rounded up to whole units and the
/// tail of the last one is discarded (zeroised), counted in <see cref="LinkKey.BytesConsumed"/>. The sender's
/// reservation also goes to the pool's outbox, which the KME link sends to the peer as for any enc_keys: a relay
/// message lost on the way leaves its keys reserved at the peer, where they expire, rather than held for ever.
/// </remarks>
public sealed class KeyPoolLinkKeySource(IKeyPool pool, string localNodeId, string neighbourId) : ILinkKeySource
{
    private readonly int _unitBytes = pool.KeySizeBits / 8;
    private readonly string _asSender = $"relay.{localNodeId}";
    private readonly string _asReceiver = $"relay.{neighbourId}";

    public string NeighbourId { get; } = neighbourId;

    public long AvailableBytes => pool.AvailableAsMaster * _unitBytes;

    /// <summary>Not measured by the pool; the node's link metrics carry the distillation rate.</summary>
    public double KeyRateBytesPerSecond { get; set; }

    public async ValueTask<LinkKey> TakeAsync(int bytes, CancellationToken cancellationToken = default)
    {
        int units = Units(bytes);
        IReadOnlyList<DeliveredKey> keys;
        try { keys = await pool.TakeAsMasterAsync(_asSender, _asReceiver, units); }
        catch (KeyPoolExhaustedException e) { throw new LinkKeyExhaustedException(NeighbourId, bytes, e.Available * _unitBytes); }
        return Join(keys, bytes);
    }

    public async ValueTask<LinkKey> TakeAsync(IReadOnlyList<Guid> keyIds, int bytes, CancellationToken cancellationToken = default)
    {
        if (keyIds.Count != Units(bytes)) throw new LinkKeyUnavailableException(NeighbourId, $"{keyIds.Count} keys named for {bytes} bytes");
        IReadOnlyList<DeliveredKey> keys;
        try
        {
            // The neighbour's sender reserved these for us; record it (idempotent) and take them, once.
            await pool.RecordPeerReservationAsync($"relay.{NeighbourId}", $"relay.{localNodeId}", keyIds);
            keys = await pool.TakeAsSlaveAsync($"relay.{NeighbourId}", $"relay.{localNodeId}", keyIds);
        }
        catch (Exception e) when (e is KeyNotFoundException or ReservationRefusedException or ArgumentException)
        {
            throw new LinkKeyUnavailableException(NeighbourId, "unknown, not the neighbour's, or already consumed", e);
        }
        return Join(keys, bytes);
    }

    private int Units(int bytes) => (bytes + _unitBytes - 1) / _unitBytes;

    private LinkKey Join(IReadOnlyList<DeliveredKey> keys, int bytes)
    {
        var material = new byte[bytes];
        var ids = new Guid[keys.Count];
        for (int i = 0, at = 0; i < keys.Count; i++)
        {
            ids[i] = keys[i].Id;
            int n = Math.Min(keys[i].Key.Length, bytes - at);
            keys[i].Key.AsSpan(0, n).CopyTo(material.AsSpan(at));
            at += n;
            CryptographicOperations.ZeroMemory(keys[i].Key);
        }
        return new LinkKey(ids, material) { BytesConsumed = keys.Count * _unitBytes };
    }
}
