using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Qkd.Core;
using Qkd.Core.Json;

namespace Qkd.Emulation;

/// <summary>
/// The one JSON dialect of link profiles: camelCase names, enums as their C# names, unknown fields rejected
/// (a misspelt field silently falling back to its default would run a different experiment than the one written).
/// Source-generated, so trimmed and Native AOT builds read and write profiles without reflection.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    WriteIndented = true,
    Converters = [typeof(EnumNameConverter<ReceiverLayout>), typeof(EnumNameConverter<EavesdropperKind>), typeof(EnumNameConverter<CoexistenceDirection>)])]
[JsonSerializable(typeof(LinkProfile))]
internal sealed partial class LinkProfileJson : JsonSerializerContext
{
    /// <summary>
    /// The profile's contract: fields a file leaves out keep the values <see cref="LinkProfile"/> declares
    /// (see <see cref="InitOnlyDefaults"/>).
    /// </summary>
    // Built on first use, not in a static initialiser: the generated part's Default may not be set yet when this
    // part's initialisers run. Inside the context the type names are its generated properties' names too: name the
    // types in full.
    public static JsonTypeInfo<Emulation.LinkProfile> Profile => s_profile ??= (JsonTypeInfo<Emulation.LinkProfile>)new JsonSerializerOptions(Default.Options)
    {
        TypeInfoResolver = Default
            .WithAddedModifier(InitOnlyDefaults.For<Emulation.LinkProfile>())
            .WithAddedModifier(InitOnlyDefaults.For<Emulation.EavesdropperSpec>())
            .WithAddedModifier(InitOnlyDefaults.For<Emulation.CoexistingChannel>()),
    }.GetTypeInfo(typeof(Emulation.LinkProfile));

    private static JsonTypeInfo<Emulation.LinkProfile>? s_profile;
}
