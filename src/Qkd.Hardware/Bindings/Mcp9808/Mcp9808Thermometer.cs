using System.Device.I2c;
using Qkd.Protocol;
using IotMcp9808 = Iot.Device.Mcp9808.Mcp9808;

namespace Qkd.Hardware.Bindings.Mcp9808;

/// <summary>
/// A Microchip MCP9808 temperature sensor on I2C (0x18..0x1F), through Iot.Device.Bindings' <see cref="IotMcp9808"/>
/// driver. Opening wakes the part (clears SHDN) and checks its manufacturer and device IDs; readings are °C with the
/// part's power-on resolution of 0.0625 °C (accuracy ±0.25 °C typical from −40 to +125 °C). Errors are
/// <see cref="DeviceException"/>s naming the part, its bus and address, and the operation: the driver itself throws a
/// bare Exception for a wrong ID and returns NaN for a register of all ones, which this class reports as a fault.
/// </summary>
public sealed class Mcp9808Thermometer : IDisposable
{
    public const int FirstAddress = 0x18;
    public const int LastAddress = 0x1F;

    private readonly IotMcp9808 _driver;
    private readonly object _gate = new();
    private bool _disposed;

    /// <param name="device">The part's I2C device; disposed with this object (also when opening fails).</param>
    public Mcp9808Thermometer(I2cDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        Description = $"MCP9808 temperature sensor (I2C bus {device.ConnectionSettings.BusId}, address 0x{device.ConnectionSettings.DeviceAddress:X2})";
        try
        {
            _driver = BindingCall.Run(Description, "wake the sensor and check its manufacturer and device IDs (0x0054, 0x0400)", () => new IotMcp9808(device));
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }

    /// <summary>"MCP9808 temperature sensor (I2C bus 1, address 0x18)": the device part of every error.</summary>
    public string Description { get; }

    /// <summary>The last completed conversion, °C.</summary>
    /// <exception cref="DeviceException">The bus failed, or the register read all ones (nothing drives the bus).</exception>
    public double ReadCelsius()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            double celsius = BindingCall.Run(Description, "read the ambient temperature", () => _driver.Temperature.DegreesCelsius);
            if (double.IsNaN(celsius))
                throw new DeviceException(Description, "read the ambient temperature", "the temperature register read 0xFFFF (no conversion result; is the part powered?)");
            return celsius;
        }
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
