using Qkd.Kme.Delivery;
using Qkd.Network.Topology;

namespace Qkd.Network.Delivery;

/// <summary>
/// A trusted node's ETSI 014 server settings from the topology: the KME ID is the node's ID, the SAEs that may call it
/// are the operator's <see cref="KeyDeliveryOptions.LocalSaes"/> (each must be attached to this node in the topology),
/// and every SAE of every other node is a possible slave (<see cref="KeyDeliveryOptions.PeerSaes"/>, no certificate:
/// such an SAE calling here is a stranger, 401).
/// </summary>
public static class NetworkKeyDeliveryOptions
{
    /// <exception cref="ArgumentException">An SAE of <paramref name="given"/> is not this node's in the topology, or the settings are invalid; the message names it.</exception>
    public static KeyDeliveryOptions For(KeyDeliveryOptions given, NetworkTopology topology, string nodeId)
    {
        var node = topology.Nodes.FirstOrDefault(n => n.Id == nodeId) ?? throw new ArgumentException($"node '{nodeId}' is not in topology '{topology.Name}'");
        foreach (var sae in given.LocalSaes)
            if (!node.Saes.Contains(sae.SaeId, StringComparer.Ordinal))
                throw new ArgumentException($"localSaes: SAE '{sae.SaeId}' is not attached to node '{nodeId}' in topology '{topology.Name}' (its SAEs: {string.Join(", ", node.Saes)})");
        var others = topology.Nodes.Where(n => n.Id != nodeId).SelectMany(n => n.Saes).Select(s => new SaeIdentity(s)).ToList();
        return (given with
        {
            KmeId = nodeId,
            PeerKmeId = $"the other nodes of '{topology.Name}'",
            PeerSaes = others,
        }).Validate();
    }
}
