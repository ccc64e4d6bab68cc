using System.Text.Json;
using System.Text.Json.Serialization;

namespace Qkd.Monitoring;

/// <summary>
/// The monitor's JSON (source-generated, so trimmed and Native AOT builds need no reflection): camelCase, enums as
/// strings ("LossStep"), nulls left out, times ISO 8601. For the events endpoint and reports.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(MonitorSnapshot))]
[JsonSerializable(typeof(AlarmChange))]
[JsonSerializable(typeof(LinkAlarm))]
[JsonSerializable(typeof(LinkAlarm[]))]
[JsonSerializable(typeof(MonitorOptions))]
public sealed partial class MonitorJson : JsonSerializerContext
{
    public static string Serialize(MonitorSnapshot snapshot) => JsonSerializer.Serialize(snapshot, Default.MonitorSnapshot);

    public static string Serialize(AlarmChange change) => JsonSerializer.Serialize(change, Default.AlarmChange);

    public static string Serialize(IReadOnlyList<LinkAlarm> alarms) => JsonSerializer.Serialize(alarms.ToArray(), Default.LinkAlarmArray);
}
