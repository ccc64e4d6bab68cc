using System.Text.Json.Serialization;

namespace Qkd.Audit;

/// <summary>What an audit line records. The JSON names are part of the log's format: never rename one.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<AuditEventKind>))]
public enum AuditEventKind
{
    /// <summary>The node started with a configuration (its SHA-256).</summary>
    [JsonStringEnumMemberName("nodeStarted")] NodeStarted,

    /// <summary>The configuration differs from the one the previous start recorded (both hashes).</summary>
    [JsonStringEnumMemberName("configurationChanged")] ConfigurationChanged,

    /// <summary>The node stopped on request.</summary>
    [JsonStringEnumMemberName("nodeStopped")] NodeStopped,

    [JsonStringEnumMemberName("sessionStarted")] SessionStarted,
    [JsonStringEnumMemberName("sessionEnded")] SessionEnded,

    /// <summary>A session broke or was stopped before its end (with the reason).</summary>
    [JsonStringEnumMemberName("sessionAborted")] SessionAborted,

    /// <summary>Keys handed to an SAE by enc_keys (master) or dec_keys (slave): key IDs and SAE IDs only.</summary>
    [JsonStringEnumMemberName("keysDelivered")] KeysDelivered,

    /// <summary>A link monitor raised an alarm.</summary>
    [JsonStringEnumMemberName("alarmRaised")] AlarmRaised,

    /// <summary>A link monitor cleared an alarm.</summary>
    [JsonStringEnumMemberName("alarmCleared")] AlarmCleared,
}
