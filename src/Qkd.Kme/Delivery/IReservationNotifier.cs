namespace Qkd.Kme.Delivery;

/// <summary>
/// Tells the peer KME which keys enc_keys just reserved, so its pool can hand them to the slave SAE by dec_keys
/// (the peer calls <see cref="Pool.IKeyPool.RecordPeerReservation"/>). The service sends this over the
/// authenticated classical channel. The server answers enc_keys only after this returns: a master SAE never holds a
/// key_ID its slave could not redeem.
/// </summary>
public interface IReservationNotifier
{
    /// <exception cref="Exception">Any failure: the server discards the keys (never delivered) and answers 503.</exception>
    ValueTask NotifyAsync(string masterSaeId, string slaveSaeId, IReadOnlyList<Guid> keyIds, CancellationToken cancellationToken);
}
