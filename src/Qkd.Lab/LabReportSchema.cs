using System.Text.Json;

namespace Qkd.Lab;

/// <summary>
/// A structural check of a JSON document against the subset of JSON Schema the lab schemas use: <c>type</c> (a name or
/// a list of names), <c>required</c>, <c>properties</c>, <c>items</c> and <c>enum</c>. Enough for tests to prove a report
/// has every required field with the right JSON type; not a full validator.
/// </summary>
public static class LabReportSchema
{
    /// <summary>Every violation found, each naming its JSON path; empty when the document conforms.</summary>
    public static IReadOnlyList<string> Check(JsonElement document, JsonElement schema)
    {
        var problems = new List<string>();
        Check(document, schema, "$", problems);
        return problems;
    }

    public static IReadOnlyList<string> Check(string documentJson, string schemaJson)
    {
        using var document = JsonDocument.Parse(documentJson);
        using var schema = JsonDocument.Parse(schemaJson);
        return Check(document.RootElement, schema.RootElement);
    }

    private static void Check(JsonElement value, JsonElement schema, string path, List<string> problems)
    {
        if (schema.TryGetProperty("type", out var type))
        {
            var names = type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()!).ToArray() : [type.GetString()!];
            if (!names.Any(n => Matches(value, n)))
            {
                problems.Add($"{path}: expected {string.Join(" or ", names)}, got {value.ValueKind}");
                return;
            }
        }
        if (schema.TryGetProperty("enum", out var allowed) && !allowed.EnumerateArray().Any(a => a.ToString() == value.ToString()))
            problems.Add($"{path}: '{value}' is not one of {allowed}");
        if (value.ValueKind == JsonValueKind.Object)
        {
            if (schema.TryGetProperty("required", out var required))
                foreach (var name in required.EnumerateArray())
                    if (!value.TryGetProperty(name.GetString()!, out _))
                        problems.Add($"{path}: required field '{name.GetString()}' is missing");
            if (schema.TryGetProperty("properties", out var properties))
                foreach (var property in properties.EnumerateObject())
                    if (value.TryGetProperty(property.Name, out var child))
                        Check(child, property.Value, $"{path}.{property.Name}", problems);
        }
        if (value.ValueKind == JsonValueKind.Array && schema.TryGetProperty("items", out var items))
        {
            int i = 0;
            foreach (var item in value.EnumerateArray()) Check(item, items, $"{path}[{i++}]", problems);
        }
    }

    private static bool Matches(JsonElement value, string type) => type switch
    {
        "object" => value.ValueKind == JsonValueKind.Object,
        "array" => value.ValueKind == JsonValueKind.Array,
        "string" => value.ValueKind == JsonValueKind.String,
        "number" => value.ValueKind == JsonValueKind.Number,
        "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => value.ValueKind == JsonValueKind.Null,
        _ => throw new ArgumentException($"Schema type '{type}' is not supported by the structural check."),
    };
}
