namespace Qkd.Hardware.Bindings.Tmp117;

/// <summary>Configuration register MOD[1:0] (bits 11:10).</summary>
public enum Tmp117ConversionMode : byte
{
    Continuous = 0b00,
    Shutdown = 0b01,
    /// <summary>One conversion, then shutdown; Data_Ready is set when it is done.</summary>
    OneShot = 0b11,
}

/// <summary>Configuration register AVG[1:0] (bits 6:5): conversions averaged per result.</summary>
public enum Tmp117Averaging : byte
{
    None = 0b00,
    Eight = 0b01,
    ThirtyTwo = 0b10,
    SixtyFour = 0b11,
}

/// <summary>TMP117 register pointers (TI SNOSD82, "Register Map"). Registers are 16 bits, MSB first on the bus.</summary>
public static class Tmp117Register
{
    public const byte TemperatureResult = 0x00;
    public const byte Configuration = 0x01;
    public const byte HighLimit = 0x02;
    public const byte LowLimit = 0x03;
    public const byte TemperatureOffset = 0x07;
    public const byte DeviceId = 0x0F;

    /// <summary>One LSB of the result, offset and limit registers: 7.8125 m°C (1/128 °C).</summary>
    public const double CelsiusPerLsb = 0.0078125;

    public const ushort ConfigHighAlert = 1 << 15;
    public const ushort ConfigLowAlert = 1 << 14;
    public const ushort ConfigDataReady = 1 << 13;
    public const ushort ConfigEepromBusy = 1 << 12;
    public const ushort ConfigSoftReset = 1 << 1;

    /// <summary>Power-on configuration: continuous conversion, CONV = 100 (1 s cycle), 8 averages.</summary>
    public const ushort ConfigurationDefault = 0x0220;

    /// <summary>Temperature result before the first conversion completes (-256 °C).</summary>
    public const ushort ResultNotReady = 0x8000;
}
