using Qkd.Hardware.Bindings.Ads1115;

namespace Qkd.Hardware.Peripherals;

/// <summary>
/// The ADS1115 input that reads the monitor photodiode (a tap of the light entering the receiver, or leaving the
/// transmitter): I2C bus and address (0x48..0x4B = 72..75), input AIN0..3, range and rate, and the alarm threshold.
/// Light above <see cref="AlarmThresholdVolts"/> is bright light where there should be none (detector blinding, a
/// Trojan-horse probe): it stops key generation until the reading falls to <see cref="EffectiveClearVolts"/> or below.
/// </summary>
public sealed record MonitorAdcConfig
{
    public int I2cBus { get; init; } = 1;

    public int Address { get; init; } = Ads1115Adc.FirstAddress;

    /// <summary>AIN0..AIN3, single-ended against GND.</summary>
    public int Channel { get; init; }

    /// <summary>PGA full scale, volts: 6.144, 4.096, 2.048, 1.024, 0.512 or 0.256.</summary>
    public double FullScaleVolts { get; init; } = 4.096;

    /// <summary>128, 250, 475 or 860 samples per second.</summary>
    public int DataRateSps { get; init; } = 860;

    /// <summary>A reading above this trips the alarm, volts (0 &lt; V &lt; full scale).</summary>
    public double AlarmThresholdVolts { get; init; }

    /// <summary>The alarm clears at or below this, volts (hysteresis; 0..threshold). Null: the threshold itself.</summary>
    public double? AlarmClearVolts { get; init; }

    public double EffectiveClearVolts => AlarmClearVolts ?? AlarmThresholdVolts;

    public string? Problem(string path)
    {
        if (I2cBus < 0) return $"{path}.i2cBus {I2cBus} must not be negative";
        if (Address is < Ads1115Adc.FirstAddress or > Ads1115Adc.LastAddress)
            return $"{path}.address {Address} (0x{Address:X2}) is outside the ADS1115's 0x48..0x4B ({Ads1115Adc.FirstAddress}..{Ads1115Adc.LastAddress})";
        if (Channel is < 0 or > 3) return $"{path}.channel {Channel} is outside 0..3 (AIN0..AIN3)";
        if (!Ads1115Adc.FullScaleRanges.Contains(FullScaleVolts))
            return $"{path}.fullScaleVolts {FullScaleVolts} is not one of {string.Join(", ", Ads1115Adc.FullScaleRanges)}";
        if (!Ads1115Adc.DataRates.Contains(DataRateSps))
            return $"{path}.dataRateSps {DataRateSps} is not one of {string.Join(", ", Ads1115Adc.DataRates)}";
        if (!double.IsFinite(AlarmThresholdVolts) || AlarmThresholdVolts <= 0 || AlarmThresholdVolts >= FullScaleVolts)
            return $"{path}.alarmThresholdVolts {AlarmThresholdVolts} is outside (0, {FullScaleVolts}) (it must be set, and below full scale so a saturated input still trips it)";
        if (AlarmClearVolts is double clear && (!double.IsFinite(clear) || clear < 0 || clear > AlarmThresholdVolts))
            return $"{path}.alarmClearVolts {clear} is outside 0..{AlarmThresholdVolts} (alarmThresholdVolts)";
        return null;
    }

    public override string ToString() => $"ADS1115 on I2C bus {I2cBus} address 0x{Address:X2}, AIN{Channel}";
}
