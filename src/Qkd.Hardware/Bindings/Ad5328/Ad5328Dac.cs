using System.Device.Spi;
using Iot.Device.DAC;
using UnitsNet;

namespace Qkd.Hardware.Bindings.Ad5328;

/// <summary>
/// An Analog Devices AD5328 octal 12-bit DAC on SPI, through Iot.Device.Bindings' <see cref="AD5328"/> driver, with the
/// checks and the accuracy that driver leaves out:
/// <list type="bullet">
/// <item>It takes any channel and any non-negative voltage: channel 8 or more shifts into the control bit (the word becomes a
/// control command), and a negative voltage wraps into the address bits. Here the channel is 0..7 and the voltage
/// 0..VREF·4095/4096, or the call throws naming the chip, the channel and the value.</item>
/// <item>It computes the code as V / (VREF / 4095), but the part outputs VREF · D / 4096 (datasheet transfer function), so
/// every output is up to one LSB low. Here the code is the nearest one by the datasheet, handed to the driver as the
/// voltage that its formula maps back to exactly that code: the output is within half an LSB of the request.</item>
/// </list>
/// The part cannot be read back, so <see cref="OutputVolts"/> is what was last set (null before the first write). The
/// driver never sends control words: the gain stays 1 and the reference unbuffered, as after power-on, and the board
/// must tie LDAC low (outputs follow each write).
/// </summary>
public sealed class Ad5328Dac : IDisposable
{
    public const int ChannelCount = 8;
    public const int MaxCode = 4095;
    private const int Steps = MaxCode + 1;

    private readonly AD5328 _driver;
    private readonly double[] _referenceVolts;
    private readonly double?[] _outputVolts = new double?[ChannelCount];
    private readonly object _gate = new();
    private bool _disposed;

    /// <param name="device">The part's SPI device (see <see cref="ConnectionSettings"/>); disposed with this object.</param>
    /// <param name="referenceVoltsAtoD">Voltage on VREFIN of DACs A–D (0..VDD).</param>
    /// <param name="referenceVoltsEtoH">Voltage on VREFIN of DACs E–H.</param>
    public Ad5328Dac(SpiDevice device, double referenceVoltsAtoD, double referenceVoltsEtoH)
    {
        ArgumentNullException.ThrowIfNull(device);
        CheckReference(referenceVoltsAtoD, nameof(referenceVoltsAtoD));
        CheckReference(referenceVoltsEtoH, nameof(referenceVoltsEtoH));
        _referenceVolts = [referenceVoltsAtoD, referenceVoltsEtoH];
        Description = $"AD5328 DAC (SPI bus {device.ConnectionSettings.BusId}, chip select {device.ConnectionSettings.ChipSelectLine})";
        _driver = new AD5328(device, ElectricPotential.FromVolts(referenceVoltsAtoD), ElectricPotential.FromVolts(referenceVoltsEtoH));
    }

    /// <summary>SPI settings for the part: mode 2 (SCLK idles high, DIN taken on the falling edge), 8-bit transfers, MSB first.</summary>
    /// <param name="clockHz">SCLK frequency, 1 kHz .. 30 MHz (the part's limit).</param>
    public static SpiConnectionSettings ConnectionSettings(int busId, int chipSelectLine, int clockHz = 1_000_000)
    {
        if (clockHz is < 1_000 or > 30_000_000)
            throw new ArgumentOutOfRangeException(nameof(clockHz), clockHz, "The AD5328's SCLK runs at up to 30 MHz.");
        return new SpiConnectionSettings(busId, chipSelectLine) { Mode = SpiMode.Mode2, DataBitLength = 8, ClockFrequency = clockHz };
    }

    /// <summary>"AD5328 DAC (SPI bus 0, chip select 1)": the device part of every error.</summary>
    public string Description { get; }

    /// <summary>VREF of the channel's group (A–D or E–H), volts.</summary>
    public double ReferenceVolts(int channel)
    {
        CheckChannel(channel);
        return _referenceVolts[channel / 4];
    }

    /// <summary>One LSB of the channel, volts: VREF / 4096.</summary>
    public double LsbVolts(int channel) => ReferenceVolts(channel) / Steps;

    /// <summary>Highest output the channel can produce: VREF · 4095 / 4096.</summary>
    public double MaxVolts(int channel) => MaxCode * LsbVolts(channel);

    /// <summary>The output for <paramref name="code"/>: VREF · D / 4096 (gain 1).</summary>
    public double CodeToVolts(int channel, int code)
    {
        if ((uint)code > MaxCode) throw new ArgumentOutOfRangeException(nameof(code), code, $"{Description}: code {code} is outside 0..{MaxCode} (12 bits).");
        return code * LsbVolts(channel);
    }

    /// <summary>The nearest code to <paramref name="volts"/>; throws naming the channel and the value when it is out of range.</summary>
    public int VoltsToCode(int channel, double volts)
    {
        double lsb = LsbVolts(channel);
        if (!double.IsFinite(volts) || volts < 0 || volts > MaxVolts(channel) + lsb / 2)
            throw new ArgumentOutOfRangeException(nameof(volts), volts,
                $"{Description} channel {channel}: {volts} V is outside 0..{MaxVolts(channel):0.######} V (VREF {ReferenceVolts(channel)} V, gain 1).");
        return (int)Math.Min(Math.Round(volts / lsb, MidpointRounding.AwayFromZero), MaxCode);
    }

    /// <summary>Sets the channel to the nearest code for <paramref name="volts"/>. Returns the output voltage that code gives.</summary>
    public double SetVoltage(int channel, double volts)
    {
        int code = VoltsToCode(channel, volts);
        double reference = ReferenceVolts(channel);
        // The driver turns volts into round(v / (VREF / 4095)); v = code · VREF / 4095 makes that exactly `code`.
        double driverVolts = Math.Min(code * reference / MaxCode, reference);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            BindingCall.Run(Description, $"set channel {channel} to {volts} V (code {code})",
                () => _driver.SetVoltage((ushort)channel, ElectricPotential.FromVolts(driverVolts)));
            double output = CodeToVolts(channel, code);
            _outputVolts[channel] = output;
            return output;
        }
    }

    /// <summary>The channel's output as last set (the part has no readback), or null if this object has not set it.</summary>
    public double? OutputVolts(int channel)
    {
        CheckChannel(channel);
        lock (_gate) return _outputVolts[channel];
    }

    private void CheckChannel(int channel)
    {
        if ((uint)channel >= ChannelCount)
            throw new ArgumentOutOfRangeException(nameof(channel), channel, $"{Description}: channel {channel} does not exist (0..7 = A..H).");
    }

    private static void CheckReference(double volts, string name)
    {
        if (!(double.IsFinite(volts) && volts > 0 && volts <= 5.5))
            throw new ArgumentOutOfRangeException(name, volts, "AD5328 VREF must be within (0, 5.5] V (and not above VDD).");
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
        }
        _driver.Dispose();
    }
}
