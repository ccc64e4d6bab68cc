using System.Text.Json;
using System.Text.Json.Serialization;

namespace Qkd.Node.Link;

/// <summary>
/// <see cref="LinkSettings"/> as a section of a node configuration ("link"): absent fields keep their defaults (read
/// through the settings document, as <see cref="LinkSettings.Parse"/> does), unknown fields are an error, and the
/// block size is not part of the section (the node configuration's top-level blockSizeBits sets it, as before the
/// section existed). Values are checked by the configuration's validation, which names the field.
/// </summary>
public sealed class LinkSettingsJsonConverter : JsonConverter<LinkSettings>
{
    private static readonly string[] NotInSection = ["blockSizeBits", "minimumFinalBlockBits"];

    public override LinkSettings Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var document = JsonSerializer.Deserialize(ref reader, LinkSettingsJsonContext.Default.LinkSettingsDocument)
                       ?? throw new JsonException("the link section is null");
        if (document.BlockSizeBits is not null || document.MinimumFinalBlockBits is not null)
            throw new JsonException("link: the block size is set by the configuration's top-level blockSizeBits, not in the link section");
        return document.ToSettings();
    }

    public override void Write(Utf8JsonWriter writer, LinkSettings value, JsonSerializerOptions options) => Section(value).WriteTo(writer);

    /// <summary>The settings as a "link" section (and as a link bench's settings file): without the block size.</summary>
    public static string SectionJson(LinkSettings value) =>
        Section(value).ToJsonString(new JsonSerializerOptions { WriteIndented = true, TypeInfoResolver = LinkSettingsJsonContext.Default });

    private static System.Text.Json.Nodes.JsonObject Section(LinkSettings value)
    {
        var node = JsonSerializer.SerializeToNode(value, LinkSettingsJsonContext.Default.LinkSettings)!.AsObject();
        foreach (string field in NotInSection) node.Remove(field);
        return node;
    }
}

/// <summary><see cref="ReceiverSettings"/> as a section of a node configuration ("receiver"): absent fields keep their defaults.</summary>
public sealed class ReceiverSettingsJsonConverter : JsonConverter<ReceiverSettings>
{
    public override ReceiverSettings Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        JsonSerializer.Deserialize(ref reader, ReceiverSettingsJsonContext.Default.ReceiverSettingsDocument)?.ToSettings()
        ?? throw new JsonException("the receiver section is null");

    public override void Write(Utf8JsonWriter writer, ReceiverSettings value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize(writer, value, ReceiverSettingsJsonContext.Default.ReceiverSettings);
}
