using System.Device.I2c;
using CsCheck;
using Qkd.Emulation.Buses;
using Qkd.Emulation.Buses.Chips;
using Qkd.Hardware.Bindings.Ads1115;
using Qkd.Protocol;

namespace Qkd.Hardware.Tests.Bindings;

/// <summary>
/// The ADS1115 wrapper over Iot.Device.Bindings' driver, against the register-level chip on a simulated I2C bus. The
/// chip converts in real time (1/DR): the driver polls until the conversion ends, which the chip models as the real
/// part does; nothing here depends on how long that takes.
/// </summary>
public sealed class Ads1115AdcTests
{
    private static (Ads1115Adc Adc, SimulatedAds1115 Chip, SimulatedI2cDevice Bus) Open(int input = 0, double fullScale = 4.096, TimeProvider? clock = null)
    {
        var chip = new SimulatedAds1115(clock, supplyVolts: 5.0);
        var bus = new SimulatedI2cDevice(new I2cConnectionSettings(1, 0x48), chip);
        return (new Ads1115Adc(bus, input, fullScale), chip, bus);
    }

    [Fact]
    public void A_reading_is_a_single_shot_conversion_of_the_chosen_input_against_ground()
    {
        var (adc, chip, bus) = Open(input: 2);
        using var _ = adc;
        chip.SetInputVolts(2, 1.0);
        chip.SetInputVolts(0, 3.0); // another input: not measured
        bus.ClearTransactions();
        long before = chip.Conversions;
        Assert.Equal(1.0, adc.ReadVolts(), 3);
        Assert.Equal(before + 1, chip.Conversions);
        // Config: OS=1 start, MUX=110 (AIN2/GND), PGA=001 (4.096 V), MODE=1 single-shot; DR=111 (860 SPS), comparator off.
        Assert.Equal("W[01E3E3] R[]", bus.Transactions[0].ToString());
        Assert.Equal(8000, (short)chip.Register(0)); // 1.0 V / 125 uV
        Assert.Equal(0.000125, adc.LsbVolts);
    }

    [Fact]
    public void Readings_match_the_datasheet_code_across_ranges_and_clip_at_full_scale()
    {
        Gen.Select(Gen.Int[0, 5], Gen.Double[0, 1.2]).Sample((rangeIndex, fraction) =>
        {
            double fullScale = Ads1115Adc.FullScaleRanges[rangeIndex];
            var (adc, chip, _) = Open(fullScale: fullScale);
            using var __ = adc;
            double volts = Math.Min(fraction * fullScale, chip.SupplyVolts + 0.3);
            chip.SetInputVolts(0, volts);
            double read = adc.ReadVolts();
            Assert.Equal(SimulatedAds1115.Code(volts, rangeIndex) * fullScale / 32768, read, 12);
            if (volts < fullScale * 32767 / 32768) Assert.True(Math.Abs(read - volts) <= adc.LsbVolts / 2 + 1e-12);
            else Assert.Equal(fullScale * 32767 / 32768, read, 12); // clipped at 0x7FFF
        }, iter: 60);
    }

    [Fact]
    public void Bad_settings_are_refused_naming_the_value_and_the_device_is_released()
    {
        var bus = new SimulatedI2cDevice(new I2cConnectionSettings(1, 0x48), new SimulatedAds1115());
        var range = Assert.Throws<ArgumentOutOfRangeException>(() => new Ads1115Adc(bus, 0, fullScaleVolts: 5.0));
        Assert.Equal(("fullScaleVolts", 5.0), (range.ParamName, range.ActualValue));
        Assert.Contains("6.144, 4.096, 2.048, 1.024, 0.512, 0.256", range.Message);
        Assert.Throws<ObjectDisposedException>(() => bus.ReadByte());
        var slow = new SimulatedI2cDevice(new I2cConnectionSettings(1, 0x48), new SimulatedAds1115());
        Assert.Contains("64", Assert.Throws<ArgumentOutOfRangeException>(() => new Ads1115Adc(slow, 0, samplesPerSecond: 64)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Ads1115Adc(new SimulatedI2cDevice(new I2cConnectionSettings(1, 0x48), new SimulatedAds1115()), 4));
    }

    [Fact]
    public void A_conversion_that_never_ends_is_a_device_exception_not_a_hang()
    {
        // A clock that never moves: the conversion stays in progress, so the driver's OS-bit poll gives up.
        var stopped = new SimulatedClock();
        var chip = new SimulatedAds1115(stopped);
        var bus = new SimulatedI2cDevice(new I2cConnectionSettings(3, 0x49), chip);
        var ex = Assert.Throws<DeviceException>(() => new Ads1115Adc(bus, 1));
        Assert.Contains("ADS1115 ADC (I2C bus 3, address 0x49, AIN1)", ex.Message);
        Assert.IsType<TimeoutException>(ex.InnerException);
    }

    [Fact]
    public void A_vanished_part_is_a_device_exception_and_dispose_still_releases_the_bus()
    {
        var (adc, _, bus) = Open();
        bus.Disconnected = true;
        var ex = Assert.Throws<DeviceException>(() => adc.ReadVolts());
        Assert.Contains("convert and read the input", ex.Message);
        adc.Dispose(); // the driver's comparator reset fails (and retries); the device is disposed anyway
        Assert.Throws<ObjectDisposedException>(() => bus.ReadByte());
    }
}
