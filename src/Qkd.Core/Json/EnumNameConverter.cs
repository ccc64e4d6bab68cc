using System.Text.Json.Serialization;

namespace Qkd.Core.Json;

/// <summary>
/// An enum as its C# name ("PassiveFourDetector"), numbers refused when reading (a number would silently pick a member
/// by position): <c>new JsonStringEnumConverter(null, allowIntegerValues: false)</c> for one enum type, nameable in a
/// source-generated context's options (see <see cref="CamelCaseEnumConverter{TEnum}"/>).
/// </summary>
public sealed class EnumNameConverter<TEnum>() : JsonStringEnumConverter<TEnum>(namingPolicy: null, allowIntegerValues: false)
    where TEnum : struct, Enum;
