using System.Text.Json;
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
            throw new InvalidOperationException($"{typeof(T).Name} was not written: {e.Message}", e);
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
