using System.Text.Json;

namespace Qkd.Kme.Delivery;

/// <summary>The parts of a Key request (ETSI 6.2) this KME acts on; optional fields are null or empty when absent.</summary>
/// <remarks>Extensions are name/value pairs; a value that is not a JSON string is kept as its raw JSON text.</remarks>
internal sealed record KeyRequest(int? Number, int? Size, IReadOnlyList<string> AdditionalSlaveSaeIds,
    IReadOnlyList<KeyValuePair<string, string>> MandatoryExtensions, IReadOnlyList<KeyValuePair<string, string>>? OptionalExtensions = null);

/// <summary>
/// Reads the POST bodies of ETSI GS QKD 014 (Key request 6.2, Key IDs 6.4). A body that is not JSON, a field of the
/// wrong type, a field the spec does not define or a field given twice is a 400 naming the field: a misspelt
/// "additional_slave_SAE_ID" must not quietly become an ordinary request. The *_extension fields are accepted and not
/// acted on; extension_mandatory and extension_optional are read as name/value pairs (the handler serves "hybrid" and
/// refuses any other mandatory extension, and ignores optional ones it does not know, as the spec lets a KME do).
/// </summary>
internal static class EtsiRequests
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 16 };

    /// <summary>The fields of a Key request (6.2).</summary>
    private static readonly string[] KeyRequestFields = ["number", "size", "additional_slave_SAE_IDs", "extension_mandatory", "extension_optional"];

    /// <summary>The fields of Key IDs (6.4) and of each of its entries.</summary>
    private static readonly string[] KeyIdsFields = ["key_IDs", "key_IDs_extension"];
    private static readonly string[] KeyIdFields = ["key_ID", "key_ID_extension"];

    public static KeyRequest ParseKeyRequest(ReadOnlyMemory<byte> body)
    {
        // Every Key request field is optional, so an empty body asks for the defaults like {} does.
        if (body.IsEmpty)
            return new KeyRequest(null, null, [], []);
        using var doc = Parse(body);
        var root = doc.RootElement;
        RequireKnownFields(root, KeyRequestFields, "a Key request");
        int? number = OptionalInt(root, "number");
        int? size = OptionalInt(root, "size");
        var additional = new List<string>();
        if (root.TryGetProperty("additional_slave_SAE_IDs", out var ids) && ids.ValueKind != JsonValueKind.Null)
        {
            if (ids.ValueKind != JsonValueKind.Array)
                throw KeyDeliveryException.BadParameter("additional_slave_SAE_IDs", "additional_slave_SAE_IDs must be an array of SAE IDs");
            foreach (var id in ids.EnumerateArray())
            {
                if (id.ValueKind != JsonValueKind.String)
                    throw KeyDeliveryException.BadParameter("additional_slave_SAE_IDs", "additional_slave_SAE_IDs must hold strings");
                additional.Add(id.GetString()!);
            }
        }
        var mandatory = Extensions(root, "extension_mandatory");
        var optional = Extensions(root, "extension_optional");
        return new KeyRequest(number, size, additional, mandatory, optional);
    }

    /// <summary>An extension array (ETSI 6.2: an array of objects of name/value pairs), as name/value pairs.</summary>
    private static List<KeyValuePair<string, string>> Extensions(JsonElement root, string field)
    {
        var result = new List<KeyValuePair<string, string>>();
        if (!root.TryGetProperty(field, out var ext) || ext.ValueKind == JsonValueKind.Null)
            return result;
        if (ext.ValueKind != JsonValueKind.Array)
            throw KeyDeliveryException.BadParameter(field, $"{field} must be an array of name/value objects");
        foreach (var item in ext.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
                throw KeyDeliveryException.BadParameter(field, $"{field} must hold name/value objects");
            foreach (var p in item.EnumerateObject())
                result.Add(new(p.Name, p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText()));
            if (!item.EnumerateObject().Any())
                result.Add(new("(empty object)", ""));
        }
        return result;
    }

    public static IReadOnlyList<Guid> ParseKeyIds(ReadOnlyMemory<byte> body)
    {
        using var doc = Parse(body);
        RequireKnownFields(doc.RootElement, KeyIdsFields, "Key IDs");
        if (!doc.RootElement.TryGetProperty("key_IDs", out var ids) || ids.ValueKind != JsonValueKind.Array)
            throw KeyDeliveryException.BadParameter("key_IDs", "the body must hold key_IDs, an array of {\"key_ID\": UUID} objects");
        var result = new List<Guid>(ids.GetArrayLength());
        foreach (var item in ids.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("key_ID", out var id) || id.ValueKind != JsonValueKind.String)
                throw KeyDeliveryException.BadParameter("key_IDs", "every key_IDs entry must be an object with a key_ID string");
            RequireKnownFields(item, KeyIdFields, "a key_IDs entry");
            result.Add(ParseKeyId(id.GetString()!));
        }
        return result;
    }

    /// <summary>A key_ID in the UUID text form (8-4-4-4-12 hex digits).</summary>
    public static Guid ParseKeyId(string text)
    {
        if (!Guid.TryParseExact(text, "D", out var id))
            throw KeyDeliveryException.BadParameter("key_ID", $"key_ID '{Truncate(text)}' is not a UUID");
        return id;
    }

    /// <summary>An integer query parameter or null when absent.</summary>
    public static int? ParseQueryInt(string name, string? text)
    {
        if (text is null) return null;
        if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int value))
            throw KeyDeliveryException.BadParameter(name, $"{name} '{Truncate(text)}' is not a non-negative integer");
        return value;
    }

    private static JsonDocument Parse(ReadOnlyMemory<byte> body)
    {
        try
        {
            var doc = JsonDocument.Parse(body, DocumentOptions);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                doc.Dispose();
                throw KeyDeliveryException.BadParameter("body", "the request body must be a JSON object");
            }
            return doc;
        }
        catch (JsonException e)
        {
            throw KeyDeliveryException.BadParameter("body", $"the request body is not valid JSON ({e.Message})");
        }
    }

    /// <summary>Every field of <paramref name="value"/> is one of <paramref name="known"/> (exact case), and none appears twice.</summary>
    private static void RequireKnownFields(JsonElement value, string[] known, string what)
    {
        int seen = 0;
        foreach (var property in value.EnumerateObject())
        {
            int i = Array.IndexOf(known, property.Name);
            if (i < 0)
                throw KeyDeliveryException.BadParameter(Truncate(property.Name),
                    $"unknown field '{Truncate(property.Name)}' in {what}; its fields are {string.Join(", ", known)} (names are case-sensitive)");
            if ((seen & (1 << i)) != 0)
                throw KeyDeliveryException.BadParameter(property.Name, $"field '{property.Name}' appears twice in {what}");
            seen |= 1 << i;
        }
    }

    private static int? OptionalInt(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            return null;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int n))
            throw KeyDeliveryException.BadParameter(name, $"{name} must be an integer");
        return n;
    }

    /// <summary>Echo at most 64 characters of client input in an error message.</summary>
    private static string Truncate(string text) => text.Length <= 64 ? text : text[..64] + "...";
}
