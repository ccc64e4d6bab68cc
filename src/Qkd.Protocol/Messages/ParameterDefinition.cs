namespace Qkd.Protocol.Messages;

/// <summary>One parameter of a device class: its unit, range and default, and whether it is per channel or writable.</summary>
/// <param name="PerChannel">True when the channel byte selects a head/level/input; otherwise the channel must be 0.</param>
public sealed record ParameterDefinition(
    ParameterId Id, DeviceClass DeviceClass, string Name, string Unit, long Minimum, long Maximum, long Default,
    bool PerChannel, bool Writable, string Description)
{
    public bool Contains(long value) => value >= Minimum && value <= Maximum;

    /// <summary>"gate width 5 ps is outside 100..100000 ps": the message a nack and a host-side check both give.</summary>
    public string OutOfRangeMessage(long value, byte channel) =>
        $"{Name}{(PerChannel ? $" on channel {channel}" : "")}: {value} {Unit} is outside {Minimum}..{Maximum} {Unit}";
}
