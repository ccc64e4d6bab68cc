using System.Text.Json;
using System.Text.Json.Serialization;

namespace Qkd.NetworkHost;

/// <summary>Source-generated JSON (trimmed and Native AOT builds) for the node config, the status lines, results and the report.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = false,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow, ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never, NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(NetworkNodeConfig))]
[JsonSerializable(typeof(NodeResult))]
[JsonSerializable(typeof(NetworkReport))]
public sealed partial class NetworkHostJson : JsonSerializerContext
{
    /// <summary>The report as people read it (indented).</summary>
    public static NetworkHostJson Indented { get; } = new(new JsonSerializerOptions(Default.Options) { WriteIndented = true });
}
