using Qkd.Hardware.Bindings.Mcp9808;

namespace Qkd.Hardware.Peripherals;

/// <summary>The MCP9808 temperature sensor on the detector housing: its I2C bus (/dev/i2c-{i2cBus}) and address (0x18..0x1F = 24..31).</summary>
public sealed record TemperatureSensorConfig
{
    public int I2cBus { get; init; } = 1;

    public int Address { get; init; } = Mcp9808Thermometer.FirstAddress;

    public string? Problem(string path)
    {
        if (I2cBus < 0) return $"{path}.i2cBus {I2cBus} must not be negative";
        if (Address is < Mcp9808Thermometer.FirstAddress or > Mcp9808Thermometer.LastAddress)
            return $"{path}.address {Address} (0x{Address:X2}) is outside the MCP9808's 0x18..0x1F ({Mcp9808Thermometer.FirstAddress}..{Mcp9808Thermometer.LastAddress})";
        return null;
    }

    public override string ToString() => $"MCP9808 on I2C bus {I2cBus} address 0x{Address:X2}";
}
