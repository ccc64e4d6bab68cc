using System.Text.Json;
using System.Text.Json.Serialization;

namespace Qkd.Status;

/// <summary>
/// Source-generated JSON of the status document (camelCase; trimmed and Native AOT builds need no reflection). Doubles
/// are written as plain numbers: the document holds no NaN or infinity (<see cref="StatusBoard"/> turns them to null),
/// and serialising one would throw rather than write a token a browser cannot parse.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = false, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(StatusDocument))]
public sealed partial class StatusJsonContext : JsonSerializerContext;
