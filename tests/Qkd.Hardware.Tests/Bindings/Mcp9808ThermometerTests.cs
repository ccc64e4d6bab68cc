using System.Device.I2c;
using CsCheck;
using Qkd.Emulation.Buses;
using Qkd.Emulation.Buses.Chips;
using Qkd.Hardware.Bindings.Mcp9808;
using Qkd.Protocol;

namespace Qkd.Hardware.Tests.Bindings;

/// <summary>The MCP9808 wrapper over Iot.Device.Bindings' driver, against the register-level chip on a simulated I2C bus.</summary>
public sealed class Mcp9808ThermometerTests
{
    private static (Mcp9808Thermometer Sensor, SimulatedMcp9808 Chip, SimulatedI2cDevice Bus) Open(int address = 0x18)
    {
        var chip = new SimulatedMcp9808();
        var bus = new SimulatedI2cDevice(new I2cConnectionSettings(1, address), chip);
        return (new Mcp9808Thermometer(bus), chip, bus);
    }

    [Fact]
    public void Opening_wakes_the_part_and_checks_its_ids_then_a_reading_is_one_register_read()
    {
        var chip = new SimulatedMcp9808();
        var bus = new SimulatedI2cDevice(new I2cConnectionSettings(1, 0x18), chip);
        bus.Write([0x01, 0x01, 0x00]); // someone left it shut down
        Assert.True(chip.IsShutDown);
        using var sensor = new Mcp9808Thermometer(bus);
        Assert.False(chip.IsShutDown);
        Assert.Contains(bus.Transactions, t => t.Written is [0x06]); // manufacturer ID
        Assert.Contains(bus.Transactions, t => t.Written is [0x07]); // device ID

        chip.TemperatureCelsius = 31.3;
        chip.CompleteConversion();
        bus.ClearTransactions();
        Assert.Equal(31.25, sensor.ReadCelsius()); // 0.0625 °C steps, truncated
        Assert.Equal(["W[05] R[]", "W[] R[C1F4]"], bus.Transactions.Select(t => t.ToString())); // 0x01F4 = 500/16
    }

    [Fact]
    public void Readings_follow_the_datasheet_encoding_across_the_range_sign_included()
    {
        Gen.Double[-40, 125].Sample(celsius =>
        {
            var (sensor, chip, _) = Open();
            using var __ = sensor;
            chip.TemperatureCelsius = celsius;
            chip.CompleteConversion();
            double read = sensor.ReadCelsius();
            Assert.Equal(SimulatedMcp9808.DecodeAmbient(SimulatedMcp9808.EncodeAmbient(celsius)), read);
            Assert.InRange(celsius - read, 0, 0.0625); // truncation toward -infinity, one LSB at most
            Assert.Equal(0, read * 16 % 1); // a whole number of LSBs
        });
    }

    [Fact]
    public void Negative_temperatures_use_the_sign_bit()
    {
        var (sensor, chip, _) = Open();
        using var _ = sensor;
        chip.TemperatureCelsius = -20.5;
        chip.CompleteConversion();
        Assert.Equal(0x1EB8, chip.Register(0x05) & 0x1FFF); // 13-bit two's complement of -328 LSB
        Assert.Equal(-20.5, sensor.ReadCelsius());
    }

    [Fact]
    public void A_part_with_other_ids_is_refused_naming_bus_and_address()
    {
        var bus = new SimulatedI2cDevice(new I2cConnectionSettings(1, 0x1A), new SimulatedAds1115()); // an ADC at the sensor's address
        var ex = Assert.Throws<DeviceException>(() => new Mcp9808Thermometer(bus));
        Assert.Contains("MCP9808 temperature sensor (I2C bus 1, address 0x1A)", ex.Message);
    }

    [Fact]
    public void An_absent_part_fails_at_open_and_a_vanished_one_at_read_with_device_exceptions()
    {
        var chip = new SimulatedMcp9808();
        var absent = new SimulatedI2cDevice(new I2cConnectionSettings(2, 0x1F), chip) { Disconnected = true };
        var open = Assert.Throws<DeviceException>(() => new Mcp9808Thermometer(absent));
        Assert.Contains("(I2C bus 2, address 0x1F)", open.Message);
        Assert.Contains("no acknowledge", open.Message);

        var (sensor, _, bus) = Open();
        using var __ = sensor;
        bus.Disconnected = true;
        var read = Assert.Throws<DeviceException>(() => sensor.ReadCelsius());
        Assert.Contains("read the ambient temperature", read.Message);
        Assert.IsType<IOException>(read.InnerException);
    }
}
