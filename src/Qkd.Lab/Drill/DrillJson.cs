using System.Text.Json;
using System.Text.Json.Serialization;

namespace Qkd.Lab.Drill;

/// <summary>The drill report's JSON: the lab reports' dialect (camelCase, indented, nulls written, finite numbers only).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    Converters = [typeof(FiniteNumberConverter)])]
[JsonSerializable(typeof(DrillReport))]
internal sealed partial class DrillJson : JsonSerializerContext;
