using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Qkd.Core.Json;

namespace Qkd.Network.Topology;

/// <summary>Source-generated JSON for net.json (trimmed and Native AOT builds): camelCase, unknown fields refused.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow, ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true)]
[JsonSerializable(typeof(NetworkTopology))]
internal sealed partial class TopologyJson : JsonSerializerContext
{
    /// <summary>
    /// The reading contract: fields a file leaves out keep the values the records declare (<see cref="InitOnlyDefaults"/>).
    /// Built on first use (the generated Default may not be set while this part's static initialisers run).
    /// </summary>
    public static JsonTypeInfo<Topology.NetworkTopology> Reading => s_reading ??= (JsonTypeInfo<Topology.NetworkTopology>)new JsonSerializerOptions(Default.Options)
    {
        TypeInfoResolver = Default
            .WithAddedModifier(InitOnlyDefaults.For<Topology.NetworkTopology>())
            .WithAddedModifier(InitOnlyDefaults.For<Topology.NodeSpec>())
            .WithAddedModifier(InitOnlyDefaults.For<Topology.LinkSpec>())
            .WithAddedModifier(InitOnlyDefaults.For<Topology.DetectorSpec>()),
    }.GetTypeInfo(typeof(Topology.NetworkTopology));

    private static JsonTypeInfo<Topology.NetworkTopology>? s_reading;
}
