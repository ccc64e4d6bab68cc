using System.Device.I2c;
using Iot.Device.Ads1115;
using Qkd.Protocol;
using IotAds1115 = Iot.Device.Ads1115.Ads1115;

namespace Qkd.Hardware.Bindings.Ads1115;

/// <summary>
/// One single-ended input of a TI ADS1115 16-bit ADC on I2C (0x48..0x4B), through Iot.Device.Bindings'
/// <see cref="IotAds1115"/> driver in single-shot mode: every <see cref="ReadVolts"/> starts a conversion, waits for it
/// (the driver polls the OS bit) and reads the result, so a reading is never older than the call. Volts =
/// code · FSR / 32768, one LSB = FSR / 32768 (125 µV at ±4.096 V).
/// </summary>
/// <remarks>
/// The driver gives up waiting after 5,000 polls of at least 2 µs each; on a fast bus that is about 10 ms, so data rates
/// below 128 SPS (a conversion of 1/DR) are refused here rather than failing at the first reading. The comparator and the
/// ALERT/RDY pin are left disabled. Errors are <see cref="DeviceException"/>s naming the part, its bus and address.
/// </remarks>
public sealed class Ads1115Adc : IDisposable
{
    public const int FirstAddress = 0x48;
    public const int LastAddress = 0x4B;

    /// <summary>The PGA's full-scale ranges, volts.</summary>
    public static IReadOnlyList<double> FullScaleRanges { get; } = [6.144, 4.096, 2.048, 1.024, 0.512, 0.256];

    /// <summary>The data rates the driver can wait for, samples per second.</summary>
    public static IReadOnlyList<int> DataRates { get; } = [128, 250, 475, 860];

    private readonly I2cDevice _device;
    private readonly IotAds1115 _driver;
    private readonly object _gate = new();
    private bool _disposed;

    /// <param name="device">The part's I2C device; disposed with this object (also when opening fails).</param>
    /// <param name="input">AIN0..AIN3, measured against GND.</param>
    /// <param name="fullScaleVolts">One of <see cref="FullScaleRanges"/>. Inputs never exceed VDD + 0.3 V whatever the range.</param>
    /// <param name="samplesPerSecond">One of <see cref="DataRates"/>: lower is quieter, higher answers sooner.</param>
    public Ads1115Adc(I2cDevice device, int input, double fullScaleVolts = 4.096, int samplesPerSecond = 860)
    {
        ArgumentNullException.ThrowIfNull(device);
        try
        {
            if ((uint)input > 3) throw new ArgumentOutOfRangeException(nameof(input), input, "The ADS1115 has inputs AIN0..AIN3.");
            var range = RangeFor(fullScaleVolts);
            var rate = RateFor(samplesPerSecond);
            Input = input;
            FullScaleVolts = fullScaleVolts;
            SamplesPerSecond = samplesPerSecond;
            Description = $"ADS1115 ADC (I2C bus {device.ConnectionSettings.BusId}, address 0x{device.ConnectionSettings.DeviceAddress:X2}, AIN{input})";
            _device = device;
            _driver = BindingCall.Run(Description, "configure single-shot conversions",
                () => new IotAds1115(device, InputMultiplexer.AIN0 + input, range, rate, DeviceMode.PowerDown));
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }

    /// <summary>"ADS1115 ADC (I2C bus 1, address 0x48, AIN0)": the device part of every error.</summary>
    public string Description { get; }

    public int Input { get; }
    public double FullScaleVolts { get; }
    public int SamplesPerSecond { get; }

    /// <summary>One LSB, volts: FSR / 32768.</summary>
    public double LsbVolts => FullScaleVolts / 32768;

    /// <summary>Converts once and returns the input's voltage against GND.</summary>
    public double ReadVolts()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return BindingCall.Run(Description, "convert and read the input", () => _driver.ReadVoltage().Volts);
        }
    }

    /// <summary>The driver's range for a full-scale voltage; throws naming the value and the ranges there are.</summary>
    public static MeasuringRange RangeFor(double fullScaleVolts) => fullScaleVolts switch
    {
        6.144 => MeasuringRange.FS6144,
        4.096 => MeasuringRange.FS4096,
        2.048 => MeasuringRange.FS2048,
        1.024 => MeasuringRange.FS1024,
        0.512 => MeasuringRange.FS0512,
        0.256 => MeasuringRange.FS0256,
        _ => throw new ArgumentOutOfRangeException(nameof(fullScaleVolts), fullScaleVolts,
            $"The ADS1115's full-scale ranges are {string.Join(", ", FullScaleRanges)} V."),
    };

    /// <summary>The driver's data rate for samples per second; throws naming the value and the rates there are.</summary>
    public static DataRate RateFor(int samplesPerSecond) => samplesPerSecond switch
    {
        128 => DataRate.SPS128,
        250 => DataRate.SPS250,
        475 => DataRate.SPS475,
        860 => DataRate.SPS860,
        _ => throw new ArgumentOutOfRangeException(nameof(samplesPerSecond), samplesPerSecond,
            $"ADS1115 data rates usable here are {string.Join(", ", DataRates)} SPS (slower conversions outlast the driver's wait)."),
    };

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
        }
        try
        {
            // The driver resets the comparator on dispose, retrying for about 0.4 s when the bus fails; a gone part must
            // not stop the rest of the node from closing.
            _driver.Dispose();
        }
        catch (Exception ex) when (ex is IOException or TimeoutException)
        {
            _device.Dispose();
        }
    }
}
