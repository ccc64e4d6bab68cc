using System.Text.Json.Serialization;

namespace Qkd.Network.Topology;

/// <summary>Source-generated JSON for net.json (trimmed and Native AOT builds): camelCase, unknown fields refused.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow, ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip,
    AllowTrailingCommas = true)]
[JsonSerializable(typeof(NetworkTopology))]
internal sealed partial class TopologyJson : JsonSerializerContext;
