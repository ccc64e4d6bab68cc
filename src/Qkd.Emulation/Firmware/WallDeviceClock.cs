using System.Diagnostics;

namespace Qkd.Emulation.Firmware;

/// <summary>Device time that follows the wall clock (monotonic, from construction): for interactive emulators.</summary>
public sealed class WallDeviceClock : IDeviceClock
{
    private readonly long _start = Stopwatch.GetTimestamp();

    public long NowPs => (long)(Stopwatch.GetElapsedTime(_start).Ticks * 100_000L);
}
