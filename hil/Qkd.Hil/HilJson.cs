using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Qkd.Core.Json;

namespace Qkd.Hil;

/// <summary>
/// The JSON of the target files (hil/targets/*.json): camelCase, an unknown field is an error, comments allowed.
/// Source-generated like every other file the stack reads; fields a target leaves out keep their declared values
/// (see <see cref="InitOnlyDefaults"/>).
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    ReadCommentHandling = JsonCommentHandling.Skip)]
[JsonSerializable(typeof(HilTarget))]
internal sealed partial class HilJson : JsonSerializerContext
{
    // Built on first use (the generated part's Default may not be set while this part's initialisers run); the type
    // names are the context's generated properties' names too, hence in full.
    public static JsonTypeInfo<Hil.HilTarget> Target => s_target ??= (JsonTypeInfo<Hil.HilTarget>)new JsonSerializerOptions(Default.Options)
    {
        TypeInfoResolver = Default
            .WithAddedModifier(InitOnlyDefaults.For<Hil.HilTarget>())
            .WithAddedModifier(InitOnlyDefaults.For<Node.Devices.DeviceBench>())
            .WithAddedModifier(InitOnlyDefaults.For<Node.Devices.DeviceAddress>()),
    }.GetTypeInfo(typeof(Hil.HilTarget));

    private static JsonTypeInfo<Hil.HilTarget>? s_target;
}
