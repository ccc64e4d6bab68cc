namespace Qkd.Hardware.Peripherals;

/// <summary>
/// The chips around the optics that the node reads and sets (the "peripherals" section of a node's devices), each
/// optional:
/// <code>
/// "peripherals": {
///   "pollIntervalMs": 100,
///   "biasDac":           { "spiBus": 0, "chipSelect": 1, "channel": 0, "referenceVolts": 2.5, "biasVolts": 1.2 },
///   "temperatureSensor": { "i2cBus": 1, "address": 24 },
///   "monitorAdc":        { "i2cBus": 1, "address": 72, "channel": 0, "alarmThresholdVolts": 0.5 } }
/// </code>
/// </summary>
public sealed record PeripheralsConfig
{
    public const int MinPollIntervalMs = 10;
    public const int MaxPollIntervalMs = 60_000;

    /// <summary>AD5328 DAC channel that sets the modulator bias.</summary>
    public BiasDacConfig? BiasDac { get; init; }

    /// <summary>MCP9808 temperature sensor on the detector housing.</summary>
    public TemperatureSensorConfig? TemperatureSensor { get; init; }

    /// <summary>ADS1115 input reading the monitor photodiode at the receiver's input (blinding, Trojan-horse light).</summary>
    public MonitorAdcConfig? MonitorAdc { get; init; }

    /// <summary>How often the temperature and the monitor photodiode are read, milliseconds (10..60000; default 100).</summary>
    public int PollIntervalMs { get; init; } = 100;

    /// <summary>The first bad value, named by its path under <paramref name="section"/> ("peripherals.monitorAdc.channel 4 ..."), or null.</summary>
    public string? Problem(string section = "peripherals")
    {
        if (PollIntervalMs is < MinPollIntervalMs or > MaxPollIntervalMs)
            return $"{section}.pollIntervalMs {PollIntervalMs} is outside {MinPollIntervalMs}..{MaxPollIntervalMs}";
        return BiasDac?.Problem($"{section}.biasDac")
            ?? TemperatureSensor?.Problem($"{section}.temperatureSensor")
            ?? MonitorAdc?.Problem($"{section}.monitorAdc");
        // The two I2C parts cannot collide: their address ranges (0x18..0x1F, 0x48..0x4B) are disjoint.
    }
}
