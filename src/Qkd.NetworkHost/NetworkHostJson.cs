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
    /// <summary>The report as people read it (indented). Built on first use (the generated Default may not be set while static initialisers run).</summary>
    public static NetworkHostJson Indented => s_indented ??= new(new JsonSerializerOptions(Default.Options) { WriteIndented = true });

    private static NetworkHostJson? s_indented;
}
