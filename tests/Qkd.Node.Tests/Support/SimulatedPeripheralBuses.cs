using Qkd.Hardware.Peripherals;
using System.Device.Gpio;
using System.Device.I2c;
using System.Device.Spi;
using Qkd.Emulation.Buses;
using Qkd.Emulation.Buses.Chips;
using Qkd.Node.Devices;

namespace Qkd.Node.Tests.Support;

/// <summary>
/// The node's buses in simulation: I2C bus 1 carries an MCP9808 at 0x18 and an ADS1115 at 0x48, SPI 0.1 an AD5328,
/// and every GPIO chip is a <see cref="SimulatedGpioDriver"/> on one <see cref="SimulatedClock"/>. An I2C address with no
/// chip opens (as /dev/i2c-N does) and then never acknowledges, as on a real bus.
/// </summary>
public sealed class SimulatedPeripheralBuses : IPeripheralBusFactory
{
    private readonly Dictionary<int, SimulatedGpioDriver> _gpioChips = [];
    private readonly List<SimulatedI2cDevice> _i2c = [];
    private readonly List<SimulatedSpiDevice> _spi = [];

    public SimulatedClock Clock { get; } = new();
    public SimulatedAd5328 Dac { get; } = new(referenceVoltsAtoD: 2.5, referenceVoltsEtoH: 2.5, supplyVolts: 5.0);
    public SimulatedMcp9808 Thermometer { get; } = new();
    public SimulatedAds1115 Monitor { get; } = new(supplyVolts: 3.3); // converts on the system clock: the driver busy-polls it

    public SimulatedGpioDriver GpioChip(int chip)
    {
        lock (_gpioChips)
        {
            if (!_gpioChips.TryGetValue(chip, out var driver)) _gpioChips[chip] = driver = new SimulatedGpioDriver(32, Clock);
            return driver;
        }
    }

    /// <summary>The I2C device opened for <paramref name="address"/> (to unplug it: <c>Disconnected = true</c>).</summary>
    public SimulatedI2cDevice I2c(int address)
    {
        lock (_i2c) return _i2c.Last(d => d.ConnectionSettings.DeviceAddress == address);
    }

    public IReadOnlyList<SimulatedSpiDevice> SpiDevices
    {
        get { lock (_spi) return _spi.ToArray(); }
    }

    public I2cDevice OpenI2c(int busId, int address)
    {
        IRegisterMapChip? chip = (busId, address) switch
        {
            (1, SimulatedMcp9808.DefaultAddress) => Thermometer,
            (1, SimulatedAds1115.DefaultAddress) => Monitor,
            _ => null,
        };
        var device = new SimulatedI2cDevice(new I2cConnectionSettings(busId, address), chip ?? new SimulatedMcp9808()) { Disconnected = chip is null };
        lock (_i2c) _i2c.Add(device);
        return device;
    }

    public SpiDevice OpenSpi(SpiConnectionSettings settings)
    {
        var device = new SimulatedSpiDevice(settings, Dac) { Disconnected = (settings.BusId, settings.ChipSelectLine) != (0, 1) };
        lock (_spi) _spi.Add(device);
        return device;
    }

    public GpioController OpenGpioChip(int chip) => new(GpioChip(chip));
}
