using System.Device.Gpio;

namespace Qkd.Emulation.Buses;

/// <summary>One output write seen by <see cref="SimulatedGpioDriver"/>: which pin, what level, and when (driver clock ticks).</summary>
public readonly record struct GpioWriteRecord(int Pin, PinValue Value, long Timestamp);
