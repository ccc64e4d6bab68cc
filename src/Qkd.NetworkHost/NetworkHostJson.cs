using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

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

    /// <summary>
    /// A node config's contract as read: fields its <c>keyDelivery</c> section leaves out keep the values
    /// <see cref="Kme.Delivery.KeyDeliveryOptions"/> declares (see <see cref="Core.Json.InitOnlyDefaults"/>).
    /// </summary>
    public static JsonTypeInfo<NetworkNodeConfig> NodeConfig => s_nodeConfig ??= (JsonTypeInfo<NetworkNodeConfig>)new JsonSerializerOptions(Default.Options)
    {
        TypeInfoResolver = Default.WithAddedModifier(Core.Json.InitOnlyDefaults.For<Kme.Delivery.KeyDeliveryOptions>()),
    }.GetTypeInfo(typeof(NetworkNodeConfig));

    private static JsonTypeInfo<NetworkNodeConfig>? s_nodeConfig;
}
