using System.Device.Gpio;
using System.Device.I2c;
using System.Device.Spi;

namespace Qkd.Hardware.Peripherals;

/// <summary>
/// Opens the buses the node's peripherals sit on. <see cref="SystemPeripheralBusFactory"/> opens the kernel's devices
/// (/dev/i2c-N, /dev/spidevB.C, /dev/gpiochipN); tests hand out simulated buses with register-level chip models
/// (Qkd.Emulation.Buses), so the same bindings run against both.
/// </summary>
public interface IPeripheralBusFactory
{
    I2cDevice OpenI2c(int busId, int address);

    SpiDevice OpenSpi(SpiConnectionSettings settings);

    /// <summary>A controller for GPIO chip <paramref name="chip"/>; the caller disposes it.</summary>
    GpioController OpenGpioChip(int chip);
}
