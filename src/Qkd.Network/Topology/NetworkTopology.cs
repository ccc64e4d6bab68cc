using System.Text.Json.Serialization;

namespace Qkd.Network.Topology;

/// <summary>
/// A QKD network as <c>net.json</c> describes it: trusted nodes (each with the SAEs attached to its KME) and the QKD
/// links between them, each with the physics its emulator runs (distance, loss, detector). Read it with
/// <see cref="TopologyFile.Load"/>, which validates it.
/// </summary>
public sealed record NetworkTopology
{
    /// <summary>A name for reports and logs.</summary>
    public required string Name { get; init; }

    /// <summary>Size of the keys the network relays, bits (a multiple of 8; ETSI key_size).</summary>
    public int KeySizeBits { get; init; } = 256;

    public required IReadOnlyList<NodeSpec> Nodes { get; init; }

    public required IReadOnlyList<LinkSpec> Links { get; init; }

    /// <summary>The node an SAE is attached to, or null.</summary>
    public NodeSpec? NodeOfSae(string saeId) => Nodes.FirstOrDefault(n => n.Saes.Contains(saeId, StringComparer.Ordinal));

    /// <summary>The links that end at <paramref name="nodeId"/>.</summary>
    public IEnumerable<LinkSpec> LinksOf(string nodeId) => Links.Where(l => l.A == nodeId || l.B == nodeId);
}

/// <summary>One trusted node: its ID (also its KME ID), the SAEs attached to it, and where its services listen.</summary>
public sealed record NodeSpec
{
    public required string Id { get; init; }

    /// <summary>What the node is (a trusted relay station, a customs office): for people reading the file.</summary>
    public string? Role { get; init; }

    /// <summary>SAE IDs attached to this node's KME; unique in the whole network.</summary>
    public IReadOnlyList<string> Saes { get; init; } = [];

    /// <summary>The host its neighbours reach it at (one gateway per node; nothing assumes a shared machine).</summary>
    public string Host { get; init; } = "127.0.0.1";
}

/// <summary>One QKD link between two neighbours, and the physics its emulator runs.</summary>
public sealed record LinkSpec
{
    /// <summary>The link's ID, the same at both ends (key IDs of its pool derive from it).</summary>
    public required string Id { get; init; }

    /// <summary>The node at the transmitter (Alice) end.</summary>
    public required string A { get; init; }

    /// <summary>The node at the receiver (Bob) end.</summary>
    public required string B { get; init; }

    public double DistanceKm { get; init; }

    public double FibreLossDbPerKm { get; init; } = 0.2;

    /// <summary>Loss besides the fibre's (connectors, splices, the receiver's optics), dB.</summary>
    public double ExtraLossDb { get; init; }

    public DetectorSpec Detector { get; init; } = new();

    /// <summary>The link's total channel loss, dB.</summary>
    [JsonIgnore]
    public double TotalLossDb => DistanceKm * FibreLossDbPerKm + ExtraLossDb;

    /// <summary>The other end of the link seen from <paramref name="nodeId"/>.</summary>
    public string Other(string nodeId) => nodeId == A ? B : A;
}

/// <summary>The receiver's single-photon detectors on one link (emulation settings).</summary>
public sealed record DetectorSpec
{
    /// <summary>Detection efficiency, 0 &lt; e &lt;= 1.</summary>
    public double Efficiency { get; init; } = 0.25;

    public double DarkCountRatePerSecond { get; init; } = 100;

    public long DeadTimePs { get; init; } = 50_000;
}
