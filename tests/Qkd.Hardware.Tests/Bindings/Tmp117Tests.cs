using System.Device.I2c;
using Qkd.Hardware.Bindings.Tmp117;
using Qkd.Emulation.Buses;
using Qkd.Hardware.Tests.Support;
using Qkd.Protocol;

namespace Qkd.Hardware.Tests.Bindings;

/// <summary>TMP117 binding against the register model; expected bytes from the datasheet's register formats.</summary>
public sealed class Tmp117Tests
{
    private static (Tmp117 Sensor, SimulatedTmp117 Chip, SimulatedI2cDevice Bus) Create()
    {
        var chip = new SimulatedTmp117(revision: 0);
        var bus = new SimulatedI2cDevice(new I2cConnectionSettings(1, Tmp117.DefaultI2cAddress), chip);
        var sensor = new Tmp117(bus);
        bus.ClearTransactions();
        return (sensor, chip, bus);
    }

    [Theory]
    [InlineData(25.0, 0x0C80)]
    [InlineData(-40.0, 0xEC00)]
    [InlineData(0.0078125, 0x0001)]
    [InlineData(-0.0078125, 0xFFFF)]
    public void Temperature_is_read_through_the_pointer_as_a_twos_complement_MSB_first_word(double celsius, int raw)
    {
        var (sensor, chip, bus) = Create();
        chip.TemperatureCelsius = celsius;
        chip.CompleteConversion();
        Assert.Equal(celsius, sensor.ReadTemperatureCelsius());
        var t = Assert.Single(bus.Transactions);
        Assert.Equal([0x00], t.Written);
        Assert.Equal([(byte)(raw >> 8), (byte)raw], t.Read);
    }

    [Fact]
    public void Configure_one_shot_writes_the_mode_averaging_and_cycle_bits_and_keeps_alert_bits()
    {
        var (sensor, chip, bus) = Create();
        sensor.Configure(Tmp117ConversionMode.OneShot, Tmp117Averaging.ThirtyTwo, conversionCycle: 0);
        // MOD = 11 (bits 11:10), CONV = 000, AVG = 10 (bits 6:5)
        Assert.Equal([0x01, 0x0C, 0x40], bus.Transactions[^1].Written);
        Assert.False(sensor.ReadDataReady());
        chip.TemperatureCelsius = 21.5;
        chip.CompleteConversion();
        Assert.True(sensor.ReadDataReady());
        Assert.False(sensor.ReadDataReady()); // reading the configuration cleared Data_Ready
        Assert.Equal(21.5, sensor.ReadTemperatureCelsius());
    }

    [Fact]
    public void Offset_and_limits_are_encoded_in_7_8125_millidegree_steps()
    {
        var (sensor, chip, bus) = Create();
        sensor.SetOffsetCelsius(0.5);
        sensor.SetAlertLimits(-10, 30);
        Assert.Equal([[0x07, 0x00, 0x40], [0x03, 0xFB, 0x00], [0x02, 0x0F, 0x00]], bus.Transactions.Select(t => t.Written));
        chip.TemperatureCelsius = 20;
        chip.CompleteConversion();
        Assert.Equal(20.5, sensor.ReadTemperatureCelsius());
    }

    [Fact]
    public void Before_the_first_conversion_the_reset_value_is_refused_not_reported_as_minus_256()
    {
        var (sensor, _, _) = Create();
        var ex = Assert.Throws<DeviceException>(() => sensor.ReadTemperatureCelsius());
        Assert.Contains("0x8000", ex.Cause);
    }

    [Fact]
    public void A_one_shot_that_never_completes_times_out_naming_the_sensor()
    {
        var (sensor, _, _) = Create();
        var ex = Assert.Throws<DeviceTimeoutException>(() => sensor.MeasureOnce(Tmp117Averaging.None, TimeSpan.FromMilliseconds(5)));
        Assert.Equal("TMP117 temperature sensor (I2C bus 1, address 0x48)", ex.Device);
    }

    [Fact]
    public void Another_chip_at_the_address_is_not_mistaken_for_a_TMP117()
    {
        var chip = new SimulatedMcp4728(); // answers the read with its status bytes, not 0x0117
        var bus = new SimulatedI2cDevice(new I2cConnectionSettings(1, 0x48), chip);
        var ex = Assert.Throws<DeviceException>(() => new Tmp117(bus));
        Assert.Equal("identify the chip", ex.Operation);
    }

    [Fact]
    public void Out_of_range_offsets_name_the_value()
    {
        var (sensor, _, _) = Create();
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => sensor.SetOffsetCelsius(300));
        Assert.Contains("300 °C", ex.Message);
    }
}
