using System.Device.I2c;
using System.Device.Spi;
using Qkd.Emulation.Buses;
using Qkd.Emulation.Buses.Chips;

namespace Qkd.Emulation.Tests.Buses;

/// <summary>
/// The register-level chip models on their own, through raw bus transfers as the datasheets describe them (the
/// package bindings use only part of each chip; these are the rest).
/// </summary>
public sealed class ChipModelTests
{
    [Fact]
    public void Ad5328_control_words_gain_ldac_power_down_and_reset()
    {
        var chip = new SimulatedAd5328(referenceVoltsAtoD: 2.0, referenceVoltsEtoH: 1.0, supplyVolts: 5.0);
        using var spi = new SimulatedSpiDevice(new SpiConnectionSettings(0, 0), chip);
        spi.Write([0x18, 0x00]);        // DAC B = 0x800
        Assert.Equal(1.0, chip.OutputVolts(1), 12);
        spi.Write([0x80, 0x01]);        // gain 2 on A–D
        Assert.Equal(2.0, chip.OutputVolts(1), 12);
        Assert.Equal(1, chip.Gain(5));

        spi.Write([0xA0, 0x01]);        // LDAC mode: latched
        chip.LdacPinLow = false;        // the board drives LDAC high
        spi.Write([0x1F, 0xFF]);        // DAC B input = 0xFFF ...
        Assert.Equal(0x800, chip.OutputCode(1)); // ... held while LDAC is high
        spi.Write([0xA0, 0x02]);        // one update
        Assert.Equal(0xFFF, chip.OutputCode(1));
        Assert.Equal(Ad5328LdacMode.Latched, chip.LdacMode);

        spi.Write([0xC0, 0x02]);        // power down DAC B
        Assert.Equal(0.0, chip.OutputVolts(1));
        Assert.True(chip.IsPoweredDown(1));

        spi.Write([0xF0, 0x00]);        // reset data and control
        Assert.Equal((0, false, 1, Ad5328LdacMode.Continuous), (chip.OutputCode(1), chip.IsPoweredDown(1), chip.Gain(1), chip.LdacMode));
        spi.Write([0x00]);              // SYNC rose after 8 bits: ignored
        Assert.Equal(7, chip.Words.Count);
    }

    [Fact]
    public void Mcp9808_limits_flags_alert_status_locks_and_resolution()
    {
        var chip = new SimulatedMcp9808();
        using var i2c = new SimulatedI2cDevice(new I2cConnectionSettings(1, 0x18), chip);
        i2c.Write([0x02, 0x01, 0xE0]); // TUPPER 30 °C
        i2c.Write([0x03, 0x00, 0xA0]); // TLOWER 10 °C
        i2c.Write([0x04, 0x02, 0x80]); // TCRIT 40 °C
        i2c.Write([0x01, 0x00, 0x08]); // alert output enabled, comparator mode
        chip.TemperatureCelsius = 35;
        chip.CompleteConversion();
        Assert.Equal(0x4230, chip.Register(0x05)); // TA > TUPPER flag, 35 °C
        Assert.NotEqual(0, chip.Register(0x01) & 0x0010); // Alert Stat.
        chip.TemperatureCelsius = 41;
        chip.CompleteConversion();
        Assert.Equal(0xC290, chip.Register(0x05)); // also TA >= TCRIT
        chip.TemperatureCelsius = 20;
        chip.CompleteConversion();
        Assert.Equal(0x0140, chip.Register(0x05));
        Assert.Equal(0, chip.Register(0x01) & 0x0010);

        i2c.Write([0x01, 0x00, 0x48]); // Win.Lock
        i2c.Write([0x02, 0x03, 0x20]); // TUPPER change refused
        i2c.Write([0x01, 0x00, 0x08]); // and the lock cannot be cleared
        Assert.Equal(0x01E0, chip.Register(0x02));
        Assert.Equal(0x0048, chip.Register(0x01) & 0x00C8);

        i2c.Write([0x08, 0x00]);       // 0.5 °C resolution
        chip.TemperatureCelsius = 20.4;
        chip.CompleteConversion();
        Assert.Equal(20.0, SimulatedMcp9808.DecodeAmbient(chip.Register(0x05)));
        Span<byte> one = stackalloc byte[1];
        i2c.WriteRead([0x08], one);
        Assert.Equal(0x00, one[0]);

        i2c.Write([0x01, 0x01, 0x48]); // shut down: no more conversions
        chip.TemperatureCelsius = 50;
        chip.CompleteConversion();
        Assert.Equal(20.0, SimulatedMcp9808.DecodeAmbient(chip.Register(0x05)));
    }

    [Fact]
    public void Ads1115_single_shot_busy_time_follows_the_data_rate_and_continuous_mode_keeps_converting()
    {
        var clock = new SimulatedClock();
        var chip = new SimulatedAds1115(clock, supplyVolts: 3.3);
        using var i2c = new SimulatedI2cDevice(new I2cConnectionSettings(1, 0x48), chip);
        Assert.Equal(SimulatedAds1115.ConfigResetValue, chip.Register(1));
        chip.SetInputVolts(0, 1.0);
        chip.SetInputVolts(1, 0.25);

        i2c.Write([0x01, 0x85, 0x83]); // OS, AIN0-AIN1 differential, ±2.048 V, single-shot, 128 SPS
        Assert.Equal(0, chip.Register(1) & 0x8000); // converting
        clock.Advance(1_000_000_000 / 128 - 1);
        Assert.Equal(0, chip.Register(1) & 0x8000);
        clock.Advance(1);
        Assert.NotEqual(0, chip.Register(1) & 0x8000);
        Assert.Equal(12000, (short)chip.Register(0)); // 0.75 V at 62.5 uV/LSB

        chip.SetInputVolts(0, 2.9);
        i2c.Write([0x01, 0xC2, 0xE3]); // AIN0/GND, ±4.096 V, continuous, 860 SPS
        clock.Advance(1_000_000_000 / 860 + 1);
        Assert.Equal(23200, (short)chip.Register(0));
        Assert.Equal(0, chip.Register(1) & 0x8000); // always converting
        chip.SetInputVolts(0, -0.1);
        clock.Advance(10 * (1_000_000_000 / 860 + 1));
        Assert.Equal(-800, (short)chip.Register(0)); // below ground: a negative code
        Assert.True(chip.Conversions >= 12);

        i2c.Write([0x02, 0x12, 0x34]);
        Assert.Equal(0x1234, chip.Register(2));
        Assert.Throws<IOException>(() => i2c.Write([0x04]));
    }
}
