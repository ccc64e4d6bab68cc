using Qkd.Kme.Delivery;
using Qkd.Kme.Hybrid;
using Qkd.Kme.Pool;
using Qkd.Network.Relay;
using Qkd.Network.Routing;
using Qkd.Network.Topology;

namespace Qkd.Network.Delivery;

/// <summary>
/// A trusted node's ETSI GS QKD 014 keys, through its relay (<see cref="RelayNode"/>): enc_keys makes the keys here
/// and relays them to the node of every slave SAE (one hop for a neighbour's SAE, hop by hop for any other), answering
/// only once every destination stored them and the origin committed; dec_keys at a destination takes them from its
/// relay store, each key once per slave SAE. The KME ID of a node is its node ID in the topology.
/// </summary>
/// <remarks>
/// Multicast (additional_slave_SAE_IDs): the relay's Forward to each destination node names the slave SAEs attached
/// there; the destination stores one sealed row per key and slave, so each slave redeems the same key once with its
/// own dec_keys. Every destination confirms before the origin commits, so either every slave can redeem or none.
/// Hybrid keys are not relayed (the ML-KEM secret is a link's KME pair's: <see cref="IHybridKeys"/>).
/// </remarks>
public sealed class RelayKeyDeliverySource(RelayNode relay, NetworkTopology topology, int maxSaeIdCount = RelayKeyDeliverySource.DefaultMaxSaeIdCount) : IKeyDeliverySource
{
    /// <summary>Default ETSI max_SAE_ID_count of a network node (the relay itself allows up to 254).</summary>
    public const int DefaultMaxSaeIdCount = 16;

    public int KeySizeBits => topology.KeySizeBits;

    public int MaxSaeIdCount { get; } = maxSaeIdCount is >= 0 and <= 254
        ? maxSaeIdCount
        : throw new ArgumentOutOfRangeException(nameof(maxSaeIdCount), maxSaeIdCount, "max_SAE_ID_count must be within 0..254");

    /// <summary>Always: whether a route has key is known only per request (no route gives 503 with nothing taken).</summary>
    public bool IsReachable => true;

    public string KmeIdOf(string saeId) => topology.NodeOfSae(saeId)?.Id ?? "(no node)";

    /// <summary>
    /// Relayed keys are made on demand, so there is no stock: both counts are the keys the route's scarcest hop could
    /// carry now, one key per request (a request of k keys costs k × key size + 32 bytes of link key on every hop, see
    /// <see cref="HopAuthenticator"/>); 0 when no route has key.
    /// </summary>
    public (long Stored, long Max) KeyCounts(string masterSaeId, string slaveSaeId)
    {
        string? destination = topology.NodeOfSae(slaveSaeId)?.Id;
        if (destination is null) return (0, 0);
        var (_, bottleneck) = relay.RouteCapacity(destination);
        long keys = bottleneck / HopAuthenticator.LinkKeyBytes(topology.KeySizeBits / 8);
        return (keys, keys);
    }

    public async ValueTask<IReadOnlyList<DeliveredKey>> TakeAsMasterAsync(string masterSaeId, IReadOnlyList<string> slaveSaeIds, int number,
        IHybridKeys? hybrid, CancellationToken stopping)
    {
        if (hybrid is not null)
            throw KeyDeliveryException.BadParameter("extension_mandatory", "hybrid keys are not relayed across the network: ask a neighbour's KME pair");
        if (number > RelayCodec.MaxKeysPerRelay)
            throw KeyDeliveryException.BadParameter("number", $"number {number} exceeds the {RelayCodec.MaxKeysPerRelay} keys one relay carries");
        IReadOnlyList<RelayedKey> relayed;
        try
        {
            relayed = await relay.RequestKeysAsync(masterSaeId, slaveSaeIds, number, stopping);
        }
        catch (RelayFailedException e)
        {
            throw KeyDeliveryException.Unavailable($"the relay to {string.Join(", ", slaveSaeIds.Select(s => $"'{s}' at {KmeIdOf(s)}"))} failed ({e.Reason}): {e.Message}; rolled back, no key was delivered",
                new Dictionary<string, string> { ["reason"] = e.Reason.ToString() });
        }
        catch (ArgumentException e)
        {
            throw KeyDeliveryException.BadParameter("slave_SAE_ID", e.Message);
        }
        var keys = new DeliveredKey[relayed.Count];
        for (int i = 0; i < keys.Length; i++) keys[i] = new DeliveredKey(relayed[i].Id, relayed[i].Key);
        return keys;
    }

    public async ValueTask<IReadOnlyList<DeliveredKey>> TakeAsSlaveAsync(string masterSaeId, string slaveSaeId, IReadOnlyList<Guid> keyIds)
    {
        IReadOnlyList<RelayedKey> relayed;
        try
        {
            relayed = await relay.TakeForSlaveAsync(masterSaeId, slaveSaeId, keyIds);
        }
        catch (KeyNotFoundException e)
        {
            throw KeyDeliveryException.BadParameter("key_IDs",
                $"key_ID(s) not available to slave SAE '{slaveSaeId}' from master SAE '{masterSaeId}': unknown, already delivered, expired unfetched, rolled back or relayed for another SAE ({e.Message})");
        }
        var keys = new DeliveredKey[relayed.Count];
        for (int i = 0; i < keys.Length; i++) keys[i] = new DeliveredKey(relayed[i].Id, relayed[i].Key);
        return keys;
    }
}
