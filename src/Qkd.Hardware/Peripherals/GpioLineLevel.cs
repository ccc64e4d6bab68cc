using System.Text.Json.Serialization;

namespace Qkd.Hardware.Peripherals;

/// <summary>A GPIO line's electrical level in the config ("low" / "high").</summary>
[JsonConverter(typeof(JsonStringEnumConverter<GpioLineLevel>))]
public enum GpioLineLevel
{
    Low = 0,
    High = 1,
}
