using System.Buffers.Binary;
using System.Device.I2c;
using System.Diagnostics;
using Qkd.Protocol;

namespace Qkd.Hardware.Bindings.Tmp117;

/// <summary>
/// Texas Instruments TMP117: ±0.1 °C digital temperature sensor on I2C (address 0x48..0x4B by the ADD0 pin), for the
/// detector cooling stage and the laser mount. 16-bit two's-complement result, 7.8125 m°C per LSB.
/// Registers are addressed through a pointer byte; every register is 16 bits, most significant byte first.
/// </summary>
public sealed class Tmp117 : IDisposable
{
    public const byte DefaultI2cAddress = 0x48;
    public const int DeviceIdValue = 0x117;

    private readonly I2cDevice _device;
    private readonly bool _ownsDevice;
    private readonly object _gate = new();

    public Tmp117(I2cDevice device, bool ownsDevice = true)
    {
        ArgumentNullException.ThrowIfNull(device);
        _device = device;
        _ownsDevice = ownsDevice;
        var s = device.ConnectionSettings;
        Description = $"TMP117 temperature sensor (I2C bus {s.BusId}, address 0x{s.DeviceAddress:X2})";
        ushort id = ReadRegister(Tmp117Register.DeviceId, "read the device ID");
        if ((id & 0x0FFF) != DeviceIdValue)
            throw new DeviceException(Description, "identify the chip", $"device ID register reads 0x{id:X4}, a TMP117 reads 0x{DeviceIdValue:X3} in bits 11:0");
        Revision = id >> 12;
    }

    public string Description { get; }

    /// <summary>Device ID bits 15:12.</summary>
    public int Revision { get; }

    /// <summary>The latest conversion result, °C. Throws if no conversion has completed since power-up.</summary>
    public double ReadTemperatureCelsius()
    {
        ushort raw = ReadRegister(Tmp117Register.TemperatureResult, "read the temperature");
        if (raw == Tmp117Register.ResultNotReady)
            throw new DeviceException(Description, "read the temperature", "no conversion has completed yet (result register holds its reset value 0x8000)");
        return (short)raw * Tmp117Register.CelsiusPerLsb;
    }

    /// <summary>True when a conversion finished since the configuration register was last read (reading it clears the flag).</summary>
    public bool ReadDataReady() => (ReadRegister(Tmp117Register.Configuration, "read the configuration") & Tmp117Register.ConfigDataReady) != 0;

    /// <summary>Sets conversion mode, averaging and conversion cycle (CONV[2:0], 0..7), keeping the alert settings.</summary>
    public void Configure(Tmp117ConversionMode mode, Tmp117Averaging averaging, int conversionCycle = 4)
    {
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, $"{Description}: unknown conversion mode.");
        if (!Enum.IsDefined(averaging)) throw new ArgumentOutOfRangeException(nameof(averaging), averaging, $"{Description}: unknown averaging.");
        if ((uint)conversionCycle > 7) throw new ArgumentOutOfRangeException(nameof(conversionCycle), conversionCycle, $"{Description}: CONV must be 0..7.");
        lock (_gate)
        {
            ushort config = ReadRegister(Tmp117Register.Configuration, "read the configuration");
            // Keep POL, DR/Alert, T/nA (bits 4:2); the flag bits 15:12 are read-only.
            int value = (config & 0b0000_0000_0001_1100) | ((int)mode << 10) | (conversionCycle << 7) | ((int)averaging << 5);
            WriteRegister(Tmp117Register.Configuration, (ushort)value, $"configure {mode}, {averaging} averaging, CONV {conversionCycle}");
        }
    }

    /// <summary>Starts one conversion (one-shot mode) and waits until Data_Ready, then returns the result in °C.</summary>
    public double MeasureOnce(Tmp117Averaging averaging, TimeSpan timeout)
    {
        lock (_gate)
        {
            Configure(Tmp117ConversionMode.OneShot, averaging, 0);
            var watch = Stopwatch.StartNew();
            while (!ReadDataReady())
            {
                if (watch.Elapsed > timeout) throw new DeviceTimeoutException(Description, "one-shot temperature conversion", timeout);
                Thread.Sleep(1);
            }
            return ReadTemperatureCelsius();
        }
    }

    /// <summary>Offset added by the chip to every result (calibration against a reference), °C within ±255.99.</summary>
    public void SetOffsetCelsius(double celsius) =>
        WriteRegister(Tmp117Register.TemperatureOffset, ToRaw(celsius, nameof(celsius), "offset"), $"set the offset to {celsius} °C");

    /// <summary>Alert window: the chip flags results above <paramref name="highCelsius"/> or below <paramref name="lowCelsius"/>.</summary>
    public void SetAlertLimits(double lowCelsius, double highCelsius)
    {
        if (!(lowCelsius < highCelsius))
            throw new ArgumentException($"{Description}: low limit {lowCelsius} °C must be below high limit {highCelsius} °C.", nameof(lowCelsius));
        ushort low = ToRaw(lowCelsius, nameof(lowCelsius), "low limit");
        ushort high = ToRaw(highCelsius, nameof(highCelsius), "high limit");
        lock (_gate)
        {
            WriteRegister(Tmp117Register.LowLimit, low, $"set the low limit to {lowCelsius} °C");
            WriteRegister(Tmp117Register.HighLimit, high, $"set the high limit to {highCelsius} °C");
        }
    }

    /// <summary>Soft reset (configuration bit 1): registers return to their power-on values.</summary>
    public void SoftReset() => WriteRegister(Tmp117Register.Configuration, Tmp117Register.ConfigSoftReset, "soft reset");

    private ushort ToRaw(double celsius, string paramName, string what)
    {
        double lsb = Math.Round(celsius / Tmp117Register.CelsiusPerLsb);
        if (!double.IsFinite(celsius) || lsb < short.MinValue || lsb > short.MaxValue)
            throw new ArgumentOutOfRangeException(paramName, celsius, $"{Description}: {what} {celsius} °C is outside -256..255.992 °C.");
        return (ushort)(short)lsb;
    }

    private ushort ReadRegister(byte pointer, string operation)
    {
        Span<byte> value = stackalloc byte[2];
        lock (_gate)
        {
            try
            {
                _device.WriteRead([pointer], value);
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException)
            {
                throw new DeviceException(Description, operation, ex.Message, ex);
            }
        }
        return BinaryPrimitives.ReadUInt16BigEndian(value);
    }

    private void WriteRegister(byte pointer, ushort value, string operation)
    {
        Span<byte> frame = [pointer, (byte)(value >> 8), (byte)value];
        lock (_gate)
        {
            try
            {
                _device.Write(frame);
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException)
            {
                throw new DeviceException(Description, operation, ex.Message, ex);
            }
        }
    }

    public void Dispose()
    {
        if (_ownsDevice) _device.Dispose();
    }
}
