using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Qkd.Lab;

/// <summary>
/// JSON for the lab reports: camelCase, indented, enums as strings, non-finite numbers as null (a fit that failed
/// is "no value", never NaN, which JSON cannot carry). Each report names its schema, a file committed next to the code
/// under src/Qkd.Lab/Schemas/.
/// </summary>
public static class LabReport
{
    /// <summary>Repository-relative folder of the report schemas.</summary>
    public const string SchemaFolder = "src/Qkd.Lab/Schemas";

    /// <summary>The reports' JSON options (source-generated contracts: see <see cref="LabJson"/>).</summary>
    public static JsonSerializerOptions Options => LabJson.Default.Options;

    /// <summary>The repository-relative path of schema <paramref name="name"/> ("histogram" -> src/Qkd.Lab/Schemas/histogram.schema.json).</summary>
    public static string SchemaPath(string name) => $"{SchemaFolder}/{name}.schema.json";

    /// <exception cref="InvalidOperationException">The report holds NaN or infinity (<see cref="FiniteNumberConverter"/>): a bug, named with the field's path.</exception>
    public static string Serialize<T>(T report)
    {
        try
        {
            return JsonSerializer.Serialize(report, Contract<T>());
        }
        catch (JsonException e)
        {
            throw new InvalidOperationException($"{typeof(T).Name} was not written: {string.Join(", ", NonFinitePaths(report))} {e.Message}", e);
        }
    }

    /// <summary>
    /// Where the non-finite numbers of <paramref name="report"/> are ("$.detectors[1].delayPs = NaN"): the report written
    /// once more, on this error path only, with named literals allowed, and searched for them.
    /// </summary>
    private static IEnumerable<string> NonFinitePaths<T>(T report)
    {
        var options = new JsonSerializerOptions(LabJson.Default.Options) { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };
        options.Converters.Clear();
        var permissive = new LabJson(options);
        using var document = JsonSerializer.SerializeToDocument(report, (JsonTypeInfo<T>)permissive.GetTypeInfo(typeof(T))!);
        var found = new List<string>();
        Find(document.RootElement, "$", found);
        return found;
    }

    private static void Find(JsonElement element, string path, List<string> found)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject()) Find(property.Value, $"{path}.{property.Name}", found);
                break;
            case JsonValueKind.Array:
                int i = 0;
                foreach (var item in element.EnumerateArray()) Find(item, $"{path}[{i++}]", found);
                break;
            case JsonValueKind.String when element.GetString() is "NaN" or "Infinity" or "-Infinity":
                found.Add($"{path} = {element.GetString()}");
                break;
        }
    }

    /// <summary>The source-generated contract of report type <typeparamref name="T"/>.</summary>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not a report type of <see cref="LabJson"/>.</exception>
    internal static JsonTypeInfo<T> Contract<T>() =>
        LabJson.Default.GetTypeInfo(typeof(T)) as JsonTypeInfo<T>
        ?? throw new NotSupportedException($"{typeof(T).FullName} has no source-generated JSON contract: add [JsonSerializable(typeof({typeof(T).Name}))] to Qkd.Lab.LabJson.");

    /// <summary>Writes the report to <paramref name="path"/> (creating the folder) and returns the JSON.</summary>
    public static string Write<T>(T report, string path)
    {
        string json = Serialize(report);
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        File.WriteAllText(path, json + "\n");
        return json;
    }

    /// <summary>A finite value, or null (for JSON).</summary>
    public static double? Finite(double value) => double.IsFinite(value) ? value : null;

    /// <summary>A finite value, or null (for JSON): a missing value stays missing.</summary>
    public static double? Finite(double? value) => value is double v ? Finite(v) : null;
}
