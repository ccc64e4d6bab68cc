using System.Device.I2c;
using System.Device.Spi;
using Qkd.Emulation.Buses;
using Qkd.Emulation.Buses.Chips;

namespace Qkd.Hardware.Tests.Bindings;

public sealed class SimulatedBusTests
{
    /// <summary>
    /// A 3-byte shift register on SPI, like a DAC's SDO in daisy-chain mode: during each frame it shifts out what the
    /// previous frame shifted in.
    /// </summary>
    private sealed class ShiftRegisterChip : IRegisterMapChip
    {
        private byte[] _register = [0, 0, 0];

        public string Name => "shift register";

        public void Transfer(ReadOnlySpan<byte> written, Span<byte> read)
        {
            if (!read.IsEmpty) _register.AsSpan(0, Math.Min(3, read.Length)).CopyTo(read);
            _register = written.ToArray();
        }
    }

    [Fact]
    public void Spi_full_duplex_frames_reach_the_chip_and_are_recorded()
    {
        using var spi = new SimulatedSpiDevice(new SpiConnectionSettings(0, 1), new ShiftRegisterChip());
        spi.Write([0x31, 0x80, 0x00]);
        Span<byte> answer = stackalloc byte[3];
        spi.TransferFullDuplex([0x00, 0x00, 0x00], answer);
        Assert.Equal([0x31, 0x80, 0x00], answer.ToArray());
        spi.Read(answer); // MOSI low during a read: the register now holds the zeros
        Assert.Equal([0x00, 0x00, 0x00], answer.ToArray());
        Assert.Equal(["W[318000] R[]", "W[000000] R[318000]", "W[000000] R[000000]"], spi.Transactions.Select(t => t.ToString()));
    }

    [Fact]
    public void Spi_refuses_unequal_full_duplex_buffers_and_an_absent_chip_reads_all_ones()
    {
        using var spi = new SimulatedSpiDevice(new SpiConnectionSettings(0, 0), new ShiftRegisterChip());
        Assert.Throws<ArgumentException>(() => spi.TransferFullDuplex(new byte[3], new byte[2]));
        spi.Disconnected = true;
        var answer = new byte[2];
        spi.TransferFullDuplex([1, 2], answer);
        Assert.Equal([0xFF, 0xFF], answer);
    }

    [Fact]
    public void I2c_nack_from_the_chip_surfaces_as_IOException_and_is_still_recorded()
    {
        var chip = new SimulatedMcp9808();
        using var i2c = new SimulatedI2cDevice(new I2cConnectionSettings(1, 0x18), chip);
        var ex = Assert.Throws<IOException>(() => i2c.Write([0x19])); // bits 7:4 of the pointer must be 0
        Assert.Contains("0x19", ex.Message);
        Assert.Equal("W[19] R[]", Assert.Single(i2c.Transactions).ToString());
    }

    [Fact]
    public void I2c_disconnected_device_does_not_acknowledge()
    {
        var chip = new SimulatedMcp9808();
        using var i2c = new SimulatedI2cDevice(new I2cConnectionSettings(3, 0x19), chip) { Disconnected = true };
        var ex = Assert.Throws<IOException>(() => i2c.WriteByte(0x01));
        Assert.Contains("bus 3", ex.Message);
        Assert.Contains("0x19", ex.Message);
        Assert.Equal(SimulatedMcp9808.ManufacturerId, chip.Register(0x06)); // the chip saw nothing: still answers as at power-on
        Assert.Equal(0, chip.Register(0x01));
    }
}
