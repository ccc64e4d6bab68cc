using System.Text.Json;
using System.Text.Json.Serialization;

namespace Qkd.Core.Json;

/// <summary>
/// An enum as its camelCase name ("passiveFourDetector"), numbers also accepted when reading: what
/// <c>new JsonStringEnumConverter(JsonNamingPolicy.CamelCase)</c> does, for one enum type, so that a source-generated
/// context can name it in <see cref="JsonSourceGenerationOptionsAttribute.Converters"/> (the non-generic factory needs
/// run-time code generation, which Native AOT does not have).
/// </summary>
public sealed class CamelCaseEnumConverter<TEnum>() : JsonStringEnumConverter<TEnum>(JsonNamingPolicy.CamelCase)
    where TEnum : struct, Enum;
