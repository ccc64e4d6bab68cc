using System.Text.Json;
using System.Text.Json.Serialization;

namespace Qkd.Emulation;

/// <summary>
/// The one JSON dialect of link profiles: camelCase names, enums as their C# names, unknown fields rejected
/// (a misspelt field silently falling back to its default would run a different experiment than the one written).
/// </summary>
internal static class LinkProfileJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            ReadCommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
            WriteIndented = true,
        };
        options.Converters.Add(new JsonStringEnumConverter(namingPolicy: null, allowIntegerValues: false));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
