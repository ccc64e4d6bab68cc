namespace Qkd.Emulation.Firmware;

/// <summary>
/// The time an emulated device lives in: uptime, the cooler's approach to its set point, the window of a count read.
/// Emulated time is a clock of its own so that tests and HIL scenarios can move it deterministically
/// (<see cref="ManualDeviceClock"/>) while an interactive emulator just follows the wall (<see cref="WallDeviceClock"/>).
/// </summary>
public interface IDeviceClock
{
    /// <summary>Picoseconds since the device was powered on; never decreases.</summary>
    long NowPs { get; }
}
