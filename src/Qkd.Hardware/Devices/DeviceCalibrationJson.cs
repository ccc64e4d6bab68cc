using System.Text.Json;
using System.Text.Json.Serialization;

namespace Qkd.Hardware.Devices;

/// <summary>Source-generated JSON of <see cref="DeviceCalibration"/> (trimmed and AOT builds); unknown fields are errors.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(DeviceCalibration))]
internal sealed partial class DeviceCalibrationJson : JsonSerializerContext;
