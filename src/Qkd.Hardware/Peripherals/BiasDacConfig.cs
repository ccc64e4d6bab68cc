using Qkd.Hardware.Bindings.Ad5328;

namespace Qkd.Hardware.Peripherals;

/// <summary>
/// Where the modulator's bias is set: one channel of an AD5328 DAC on SPI (/dev/spidev{spiBus}.{chipSelect}), its
/// group's reference voltage, and the bias to set at start-up. The DAC has no readback; the node exports what it set.
/// </summary>
public sealed record BiasDacConfig
{
    public int SpiBus { get; init; }
    public int ChipSelect { get; init; }

    /// <summary>DAC channel 0..7 (A..H).</summary>
    public int Channel { get; init; }

    /// <summary>Voltage on the VREFIN pin of the channel's group (A–D or E–H), volts (0 &lt; V ≤ 5.5).</summary>
    public double ReferenceVolts { get; init; } = 2.5;

    /// <summary>Bias to set when the node starts, volts (0 .. VREF·4095/4096).</summary>
    public double BiasVolts { get; init; }

    /// <summary>SCLK frequency, Hz (1 kHz .. 30 MHz).</summary>
    public int ClockHz { get; init; } = 1_000_000;

    public string? Problem(string path)
    {
        if (SpiBus < 0) return $"{path}.spiBus {SpiBus} must not be negative";
        if (ChipSelect < 0) return $"{path}.chipSelect {ChipSelect} must not be negative";
        if (Channel is < 0 or >= Ad5328Dac.ChannelCount) return $"{path}.channel {Channel} is outside 0..{Ad5328Dac.ChannelCount - 1} (AD5328 DACs A..H)";
        if (!double.IsFinite(ReferenceVolts) || ReferenceVolts <= 0 || ReferenceVolts > 5.5) return $"{path}.referenceVolts {ReferenceVolts} is outside (0, 5.5]";
        double max = ReferenceVolts * Ad5328Dac.MaxCode / (Ad5328Dac.MaxCode + 1);
        if (!double.IsFinite(BiasVolts) || BiasVolts < 0 || BiasVolts > max) return $"{path}.biasVolts {BiasVolts} is outside 0..{max:0.######} (the DAC's range at referenceVolts {ReferenceVolts})";
        if (ClockHz is < 1_000 or > 30_000_000) return $"{path}.clockHz {ClockHz} is outside 1000..30000000";
        return null;
    }

    public override string ToString() => $"AD5328 on SPI bus {SpiBus} chip select {ChipSelect}, channel {Channel}";
}
