using System.Device.Spi;
using CsCheck;
using Qkd.Emulation.Buses;
using Qkd.Emulation.Buses.Chips;
using Qkd.Hardware.Bindings.Ad5328;
using Qkd.Protocol;

namespace Qkd.Hardware.Tests.Bindings;

/// <summary>The AD5328 wrapper over Iot.Device.Bindings' driver, against the register-level chip on a simulated SPI bus.</summary>
public sealed class Ad5328DacTests
{
    private static (Ad5328Dac Dac, SimulatedAd5328 Chip, SimulatedSpiDevice Spi) Open(double refAtoD = 2.5, double refEtoH = 4.096)
    {
        var chip = new SimulatedAd5328(refAtoD, refEtoH, supplyVolts: 5.0);
        var spi = new SimulatedSpiDevice(Ad5328Dac.ConnectionSettings(0, 1), chip);
        return (new Ad5328Dac(spi, refAtoD, refEtoH), chip, spi);
    }

    [Fact]
    public void A_write_is_one_16_bit_word_with_the_channel_and_the_datasheet_code()
    {
        var (dac, chip, spi) = Open();
        using var _ = dac;
        double output = dac.SetVoltage(2, 1.0); // 1.0 V of 2.5 V: 1638.4 LSB -> code 1638
        Assert.Equal("W[2666] R[]", Assert.Single(spi.Transactions).ToString()); // D15 = 0, DAC C (010), 0x666 = 1638
        Assert.Equal(1638, chip.OutputCode(2));
        Assert.Equal(2.5 * 1638 / 4096, output, 12);
        Assert.Equal(chip.OutputVolts(2), output, 12);
        Assert.Equal(output, dac.OutputVolts(2));
        Assert.Null(dac.OutputVolts(3));
    }

    [Fact]
    public void The_spi_settings_are_mode_2_msb_first_bytes()
    {
        var settings = Ad5328Dac.ConnectionSettings(1, 0, clockHz: 20_000_000);
        Assert.Equal((1, 0, SpiMode.Mode2, 8, 20_000_000), (settings.BusId, settings.ChipSelectLine, settings.Mode, settings.DataBitLength, settings.ClockFrequency));
        Assert.Throws<ArgumentOutOfRangeException>(() => Ad5328Dac.ConnectionSettings(0, 0, clockHz: 50_000_000));
    }

    [Fact]
    public void Every_voltage_in_range_lands_within_half_an_lsb_on_the_chip_of_both_groups()
    {
        Gen.Select(Gen.Int[0, 7], Gen.Double[0, 1]).Sample((channel, fraction) =>
        {
            var (dac, chip, _) = Open();
            using var __ = dac;
            double volts = fraction * dac.MaxVolts(channel);
            double output = dac.SetVoltage(channel, volts);
            Assert.Equal(chip.OutputVolts(channel), output, 12);
            Assert.True(Math.Abs(output - volts) <= dac.LsbVolts(channel) / 2 + 1e-12, $"channel {channel}: asked {volts} V, chip outputs {output} V");
            Assert.Equal(dac.VoltsToCode(channel, volts), chip.OutputCode(channel));
        });
    }

    [Fact]
    public void Full_scale_is_code_4095_and_zero_is_code_0()
    {
        var (dac, chip, _) = Open();
        using var _ = dac;
        dac.SetVoltage(7, dac.MaxVolts(7));
        dac.SetVoltage(0, 0);
        Assert.Equal(4095, chip.OutputCode(7));
        Assert.Equal(4.096 * 4095 / 4096, chip.OutputVolts(7), 12);
        Assert.Equal(0, chip.OutputCode(0));
    }

    [Fact]
    public void Out_of_range_requests_are_refused_before_anything_is_sent_naming_chip_channel_and_value()
    {
        var (dac, chip, spi) = Open();
        using var _ = dac;
        // Iot.Device.Bindings would shift channel 8 into the control bit and wrap -1 V into the address bits.
        var channel = Assert.Throws<ArgumentOutOfRangeException>(() => dac.SetVoltage(8, 1.0));
        Assert.Contains("AD5328 DAC (SPI bus 0, chip select 1)", channel.Message);
        Assert.Contains("channel 8", channel.Message);
        var negative = Assert.Throws<ArgumentOutOfRangeException>(() => dac.SetVoltage(1, -1.0));
        Assert.Contains("channel 1: -1 V is outside 0..2.49939", negative.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => dac.SetVoltage(1, 2.6));
        Assert.Throws<ArgumentOutOfRangeException>(() => dac.SetVoltage(1, double.NaN));
        Assert.Empty(spi.Transactions);
        Assert.Empty(chip.Words);
    }

    [Fact]
    public void A_bus_failure_is_a_device_exception_naming_the_chip()
    {
        var failing = new FailingSpiDevice(Ad5328Dac.ConnectionSettings(2, 3));
        using var dac = new Ad5328Dac(failing, 2.5, 2.5);
        var ex = Assert.Throws<DeviceException>(() => dac.SetVoltage(0, 1.0));
        Assert.Contains("AD5328 DAC (SPI bus 2, chip select 3)", ex.Message);
        Assert.Contains("set channel 0", ex.Message);
        Assert.IsType<IOException>(ex.InnerException);
        Assert.Null(dac.OutputVolts(0));
    }

    /// <summary>/dev/spidev that the kernel refuses to transfer on (a removed overlay, a permission lost).</summary>
    private sealed class FailingSpiDevice(SpiConnectionSettings settings) : SpiDevice
    {
        public override SpiConnectionSettings ConnectionSettings { get; } = settings;
        public override byte ReadByte() => throw new IOException("SPI transfer failed: Input/output error");
        public override void Read(Span<byte> buffer) => throw new IOException("SPI transfer failed: Input/output error");
        public override void WriteByte(byte value) => throw new IOException("SPI transfer failed: Input/output error");
        public override void Write(ReadOnlySpan<byte> buffer) => throw new IOException("SPI transfer failed: Input/output error");
        public override void TransferFullDuplex(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer) => throw new IOException("SPI transfer failed: Input/output error");
    }
}
