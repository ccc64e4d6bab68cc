namespace Qkd.Protocol.Messages;

/// <summary>
/// Device parameters read with GetParameter and written with SetParameter. Values travel as i64 in the unit the name
/// carries. The high byte is the device class (0 = every class). Ranges, defaults and channels: <see cref="ParameterCatalog"/>
/// and firmware-protocols/&lt;class&gt;.md.
/// </summary>
public enum ParameterId : ushort
{
    /// <summary>Number of channels (detector heads, intensity levels, tagger inputs; 1 for a random number generator). Read-only.</summary>
    ChannelCount = 0x0001,

    // Single-photon detector (per head).
    DetectorEfficiencyPpm = 0x0101,
    DetectorGateWidthPs = 0x0102,
    DetectorGateDelayPs = 0x0103,
    DetectorDeadTimePs = 0x0104,
    DetectorTemperatureSetPointMilliKelvin = 0x0105,
    DetectorTemperatureMilliKelvin = 0x0106,
    DetectorGateMode = 0x0107,
    DetectorBiasEnabled = 0x0108,

    // Laser modulator.
    ModulatorPulseRateHz = 0x0201,
    ModulatorIntensityMicroPhotons = 0x0202,
    ModulatorSyncDivider = 0x0203,
    ModulatorBiasLocked = 0x0204,
    ModulatorPhaseMilliradians = 0x0205,
    ModulatorBiasDacCode = 0x0206,

    // Time tagger (per input).
    TaggerTriggerLevelMicrovolts = 0x0301,
    TaggerInputDelayPs = 0x0302,
    TaggerSyncChannel = 0x0303,
    TaggerChannelEnabled = 0x0304,
    TaggerTestSignalEnabled = 0x0305,
    TaggerTestSignalPeriodPs = 0x0306,
    TaggerResolutionPs = 0x0307,

    // Random number generator.
    RngBlockSizeBytes = 0x0401,
    RngRateLimitBytesPerSecond = 0x0402,
    RngRepetitionCutoffSamples = 0x0403,
    RngProportionCutoffSamples = 0x0404,
}
