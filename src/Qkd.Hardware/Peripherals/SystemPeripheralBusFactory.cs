using System.Device.Gpio;
using System.Device.Gpio.Drivers;
using System.Device.I2c;
using System.Device.Spi;

namespace Qkd.Hardware.Peripherals;

/// <summary>The host's buses through System.Device.Gpio: /dev/i2c-N, /dev/spidevB.C and /dev/gpiochipN (libgpiod).</summary>
public sealed class SystemPeripheralBusFactory : IPeripheralBusFactory
{
    public static SystemPeripheralBusFactory Instance { get; } = new();

    public I2cDevice OpenI2c(int busId, int address) => I2cDevice.Create(new I2cConnectionSettings(busId, address));

    public SpiDevice OpenSpi(SpiConnectionSettings settings) => SpiDevice.Create(settings);

    public GpioController OpenGpioChip(int chip) => new(new LibGpiodDriver(chip));
}
