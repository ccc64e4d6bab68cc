using Qkd.Kme.Pool;

namespace Qkd.Kme.Delivery;

/// <summary>
/// Tells the peer KME which keys enc_keys just reserved, so its pool can hand them to the slave SAE by dec_keys
/// (the peer calls <see cref="IKeyPool.RecordPeerReservationAsync(string, string, IReadOnlyList{ReservedKey})"/>). The
/// node sends this over the authenticated KME link (<see cref="PeerLink.PeerKmeLink"/>). The server answers enc_keys only
/// after this returns: a master SAE never holds a key_ID its slave could not redeem.
/// </summary>
public interface IReservationNotifier
{
    /// <summary>
    /// False while the peer KME cannot be reached (the KME link is down): enc_keys then answers 503 before it takes any
    /// key, so clients retrying through an outage do not use up keys.
    /// </summary>
    bool IsPeerReachable => true;

    /// <exception cref="Exception">Any failure: the server answers 503 and never hands these keys out. (A durable pool
    /// keeps the reservation in its outbox; the link delivers it later, and the peer lets it expire.)</exception>
    ValueTask NotifyAsync(string masterSaeId, string slaveSaeId, IReadOnlyList<ReservedKey> keys, CancellationToken cancellationToken);

    /// <summary>
    /// A hybrid reservation: as <see cref="NotifyAsync(string, string, IReadOnlyList{ReservedKey}, CancellationToken)"/>,
    /// carrying the ML-KEM ciphertext the peer keeps (durably, before it answers) to derive the same hybrid keys. A
    /// notifier that cannot carry it refuses (the server then answers 503 and hands nothing out).
    /// </summary>
    ValueTask NotifyHybridAsync(string masterSaeId, string slaveSaeId, IReadOnlyList<ReservedKey> keys, ReadOnlyMemory<byte> ciphertext,
        CancellationToken cancellationToken) =>
        throw new NotSupportedException("this KME link cannot carry hybrid reservations");
}
