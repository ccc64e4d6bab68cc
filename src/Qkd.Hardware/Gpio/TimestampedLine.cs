using System.Device.Gpio;

namespace Qkd.Hardware.Gpio;

/// <summary>
/// An input line whose edges become time tags: the GPIO line number, the time-tag channel its edges are reported on,
/// which edges to report, and the input mode (pull resistor) to open it with.
/// </summary>
public readonly record struct TimestampedLine(int Pin, ushort Channel, PinEventTypes Edges = PinEventTypes.Rising | PinEventTypes.Falling, PinMode Mode = PinMode.Input);
