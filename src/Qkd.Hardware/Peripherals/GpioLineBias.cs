using System.Text.Json.Serialization;

namespace Qkd.Hardware.Peripherals;

/// <summary>The bias resistor an input line is opened with ("pullUp", "pullDown", "none").</summary>
[JsonConverter(typeof(JsonStringEnumConverter<GpioLineBias>))]
public enum GpioLineBias
{
    PullUp = 0,
    PullDown = 1,
    None = 2,
}
