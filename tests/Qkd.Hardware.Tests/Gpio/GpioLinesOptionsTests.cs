using System.Device.Gpio;
using Qkd.Hardware.Gpio;

namespace Qkd.Hardware.Tests.Gpio;

public sealed class GpioLinesOptionsTests
{
    private static readonly GpioLinesOptions Good = new()
    {
        InterlockPin = 5,
        GateEnablePin = 12,
        TriggerPin = 20,
        TimestampedLines = [new TimestampedLine(5, 40), new TimestampedLine(6, 41)],
    };

    [Fact]
    public void A_consistent_wiring_validates() => Good.Validate(pinCount: 54);

    public static TheoryData<GpioLinesOptions, string, string> BadOptions => new()
    {
        { Good with { GateEnablePin = -3 }, "GateEnablePin", "-3" },
        { Good with { TriggerPin = 60 }, "TriggerPin", "60" },
        { Good with { TriggerPin = 12 }, "TriggerPin", "GateEnablePin" },
        { Good with { InterlockDebounceNs = -1 }, "InterlockDebounceNs", "-1" },
        { Good with { TriggerPulseWidthNs = 0 }, "TriggerPulseWidthNs", "0" },
        { Good with { InterlockMode = PinMode.Output }, "InterlockMode", "Output" },
        { Good with { TimestampedLines = [new TimestampedLine(12, 1)] }, "TimestampedLines[0].Pin", "12" },
        { Good with { TimestampedLines = [new TimestampedLine(6, 1), new TimestampedLine(7, 1)] }, "TimestampedLines[1].Channel", "1" },
        { Good with { TimestampedLines = [new TimestampedLine(6, 1, PinEventTypes.None)] }, "TimestampedLines[0].Edges", "None" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void A_bad_value_is_rejected_with_its_name_and_value(GpioLinesOptions options, string name, string mentioned)
    {
        var ex = Assert.Throws<ArgumentException>(() => options.Validate(pinCount: 54));
        Assert.Equal(name, ex.ParamName);
        Assert.Contains($"GpioLinesOptions.{name} = ", ex.Message);
        Assert.Contains(mentioned, ex.Message);
    }
}
