using System.Device.Gpio;
using Qkd.Emulation.Buses;

namespace Qkd.Hardware.Tests.Gpio;

/// <summary>A simulated chip, its controller and a manual clock: the outside world for the role tests.</summary>
internal sealed class GpioTestRig : IDisposable
{
    public GpioTestRig(int pinCount = 32)
    {
        Clock = new SimulatedClock(startNs: 1_000_000);
        Driver = new SimulatedGpioDriver(pinCount, Clock);
        Controller = new GpioController(Driver);
    }

    public SimulatedClock Clock { get; }
    public SimulatedGpioDriver Driver { get; }
    public GpioController Controller { get; }

    /// <summary>The clock in picoseconds (SimulatedClock ticks are nanoseconds).</summary>
    public long NowPs => Clock.NowNs * 1000;

    public void Dispose() => Controller.Dispose();
}
