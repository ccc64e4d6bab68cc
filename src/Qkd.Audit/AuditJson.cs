using System.Text.Json;
using System.Text.Json.Serialization;

namespace Qkd.Audit;

/// <summary>
/// The log's JSON: compact (one line per entry), camelCase, null fields left out, strict when read back (an unknown field
/// is an error). Source-generated, so trimmed and Native AOT builds need no reflection.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    WriteIndented = false)]
[JsonSerializable(typeof(AuditEntry))]
[JsonSerializable(typeof(AuditHead))]
internal sealed partial class AuditJson : JsonSerializerContext;
