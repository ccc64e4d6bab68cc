using Qkd.Kme.Hybrid;
using Qkd.Kme.Pool;

namespace Qkd.Kme.Delivery;

/// <summary>
/// Where the ETSI GS QKD 014 server's keys come from: the seam between the HTTP side (<see cref="KeyDeliveryHandler"/>:
/// TLS client authentication, request parsing, the spec's limits, audit, zeroised answers) and the keys. A link's KME
/// takes them from its pool and tells the peer KME (<see cref="PoolKeyDeliverySource"/>); a trusted node of a network
/// makes them and relays them to the slave SAEs' nodes (Qkd.Network's <c>RelayKeyDeliverySource</c>). The handler has
/// already checked that the master is the authenticated caller attached here and that every slave SAE is known and
/// attached elsewhere; the source decides whether it can deliver.
/// </summary>
public interface IKeyDeliverySource
{
    /// <summary>The one key size this source delivers, bits (a positive multiple of 8): min_key_size = max_key_size.</summary>
    int KeySizeBits { get; }

    /// <summary>ETSI max_SAE_ID_count: the most additional_slave_SAE_IDs one enc_keys may name (0: no multicast).</summary>
    int MaxSaeIdCount { get; }

    /// <summary>False while keys cannot be delivered at all (a link's KME link is down): enc_keys answers 503 before any key is taken.</summary>
    bool IsReachable { get; }

    /// <summary>The KME the SAE is attached to (ETSI target_KME_ID of a Status for it).</summary>
    string KmeIdOf(string saeId);

    /// <summary>stored_key_count and max_key_count for keys shared by <paramref name="masterSaeId"/> with <paramref name="slaveSaeId"/>.</summary>
    (long Stored, long Max) KeyCounts(string masterSaeId, string slaveSaeId);

    /// <summary>
    /// enc_keys: <paramref name="number"/> keys for <paramref name="masterSaeId"/> shared with every SAE of
    /// <paramref name="slaveSaeIds"/> (the first is the path's slave, the rest the request's additional_slave_SAE_IDs).
    /// Returns only once each slave's KME can deliver them by dec_keys; the caller zeroises them.
    /// </summary>
    /// <param name="hybrid">Combine with an ML-KEM secret (the request's hybrid extension); null for plain keys.</param>
    /// <param name="stopping">The server's stop: not the request's, since a client hanging up must not leave a delivery half-told.</param>
    /// <exception cref="KeyDeliveryException">503 when keys cannot be delivered now (nothing is handed out), 400 for a request the source cannot serve.</exception>
    ValueTask<IReadOnlyList<DeliveredKey>> TakeAsMasterAsync(string masterSaeId, IReadOnlyList<string> slaveSaeIds, int number, IHybridKeys? hybrid,
        CancellationToken stopping);

    /// <summary>dec_keys: the keys of <paramref name="keyIds"/> for <paramref name="slaveSaeId"/> from <paramref name="masterSaeId"/>, each once; all or none.</summary>
    /// <exception cref="KeyDeliveryException">400 naming key_IDs when an ID is unknown, already delivered or for another pair.</exception>
    ValueTask<IReadOnlyList<DeliveredKey>> TakeAsSlaveAsync(string masterSaeId, string slaveSaeId, IReadOnlyList<Guid> keyIds);
}
