using System.Text.Json.Serialization;

namespace Qkd.Cli.Commands;

/// <summary>`qkd devices --json`: one device found; what is unknown (no identity, no problem) is left out.</summary>
public sealed record DiscoveredDeviceListing(
    string Bus,
    string Path,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? DeviceClass,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Model,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? SerialNumber,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? FirmwareVersion,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] byte? ProtocolVersion,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] byte? Channels,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Detail,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Problem);
