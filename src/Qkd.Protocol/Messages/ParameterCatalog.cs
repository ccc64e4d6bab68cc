namespace Qkd.Protocol.Messages;

/// <summary>
/// Every parameter of every device class, with its range: the single source the host drivers check against before
/// sending, the emulated firmware enforces, and firmware-protocols/ documents (a test keeps the documents in step).
/// </summary>
public static class ParameterCatalog
{
    private static readonly ParameterDefinition[] Definitions =
    [
        new(ParameterId.ChannelCount, DeviceClass.Any, "channel count", "channels", 1, 64, 1, false, false,
            "Detector heads, intensity levels or tagger inputs this device has (1 for a random number generator)."),

        new(ParameterId.DetectorEfficiencyPpm, DeviceClass.SinglePhotonDetector, "detection efficiency", "ppm", 10_000, 900_000, 100_000, true, true,
            "Photon detection efficiency set through the bias over breakdown (10% = 100000 ppm)."),
        new(ParameterId.DetectorGateWidthPs, DeviceClass.SinglePhotonDetector, "gate width", "ps", 100, 100_000, 1_000, true, true,
            "Width of the detection gate in gated mode."),
        new(ParameterId.DetectorGateDelayPs, DeviceClass.SinglePhotonDetector, "gate delay", "ps", 0, 1_000_000, 0, true, true,
            "Delay of the gate after the gate trigger."),
        new(ParameterId.DetectorDeadTimePs, DeviceClass.SinglePhotonDetector, "dead time", "ps", 1_000, 100_000_000, 50_000, true, true,
            "Hold-off after a detection during which the head is blind (active quenching)."),
        new(ParameterId.DetectorTemperatureSetPointMilliKelvin, DeviceClass.SinglePhotonDetector, "temperature set point", "mK", 173_150, 303_150, 223_150, false, true,
            "Cooler target temperature (223.15 K = -50 C)."),
        new(ParameterId.DetectorTemperatureMilliKelvin, DeviceClass.SinglePhotonDetector, "temperature", "mK", 0, 400_000, 223_150, false, false,
            "Measured temperature of the diodes."),
        new(ParameterId.DetectorGateMode, DeviceClass.SinglePhotonDetector, "gate mode", "0 free-running / 1 gated", 0, 1, 1, false, true,
            "Free-running or gated operation."),
        new(ParameterId.DetectorBiasEnabled, DeviceClass.SinglePhotonDetector, "bias enabled", "0/1", 0, 1, 1, true, true,
            "High voltage on the head; refused while the interlock is open."),

        new(ParameterId.ModulatorPulseRateHz, DeviceClass.LaserModulator, "pulse rate", "Hz", 1_000_000, 10_000_000_000, 1_000_000_000, false, true,
            "Laser pulse clock."),
        new(ParameterId.ModulatorIntensityMicroPhotons, DeviceClass.LaserModulator, "intensity level", "1e-6 photons", 0, 10_000_000, 0, true, true,
            "Calibrated mean photon number per pulse leaving the transmitter, per level: channel 0 signal, 1 decoy, 2 vacuum."),
        new(ParameterId.ModulatorSyncDivider, DeviceClass.LaserModulator, "sync divider", "pulses", 1, 1 << 20, 1024, false, true,
            "One sync output pulse every this many laser pulses; the first sync marks pulse 0."),
        new(ParameterId.ModulatorBiasLocked, DeviceClass.LaserModulator, "bias locked", "0/1", 0, 1, 1, false, false,
            "The intensity modulator's bias control loop is locked."),
        new(ParameterId.ModulatorPhaseMilliradians, DeviceClass.LaserModulator, "basis phase", "mrad", -6_284, 6_284, 0, true, true,
            "Phase (polarisation) offset applied per basis: channel 0 Z, 1 X; tuned to minimise QBER."),
        new(ParameterId.ModulatorBiasDacCode, DeviceClass.LaserModulator, "bias DAC code", "LSB", 0, 65_535, 32_768, false, true,
            "Raw code of the bias DAC of the intensity modulator (the lock loop moves it; writing it unlocks the loop)."),

        new(ParameterId.TaggerTriggerLevelMicrovolts, DeviceClass.TimeTagger, "trigger level", "uV", -2_500_000, 2_500_000, -400_000, true, true,
            "Input comparator threshold (NIM pulses are negative: -400 mV)."),
        new(ParameterId.TaggerInputDelayPs, DeviceClass.TimeTagger, "input delay", "ps", -10_000_000, 10_000_000, 0, true, true,
            "Added to every tag of the input, to compensate cables."),
        new(ParameterId.TaggerSyncChannel, DeviceClass.TimeTagger, "sync channel", "input", 0, 63, 0, false, true,
            "Input that receives the transmitter's sync."),
        new(ParameterId.TaggerChannelEnabled, DeviceClass.TimeTagger, "channel enabled", "0/1", 0, 1, 1, true, true,
            "Tags of a disabled input are not streamed."),
        new(ParameterId.TaggerTestSignalEnabled, DeviceClass.TimeTagger, "test signal", "0/1", 0, 1, 0, true, true,
            "Replace the input by the internal periodic test signal."),
        new(ParameterId.TaggerTestSignalPeriodPs, DeviceClass.TimeTagger, "test signal period", "ps", 1_000, 1_000_000_000_000, 1_000_000, false, true,
            "Period of the internal test signal."),
        new(ParameterId.TaggerResolutionPs, DeviceClass.TimeTagger, "resolution", "ps", 1, 1_000, 1, false, false,
            "Time resolution of the tags (the least significant bit of the time field)."),

        new(ParameterId.RngBlockSizeBytes, DeviceClass.RandomNumberGenerator, "block size", "bytes", 16, EntropyBlockCodec.MaxEntropyBytes, 4_096, false, true,
            "Entropy bytes per RngEntropyData frame; applies from the next block."),
        new(ParameterId.RngRateLimitBytesPerSecond, DeviceClass.RandomNumberGenerator, "rate limit", "B/s", 1_000, 1_000_000_000, 12_500_000, false, true,
            "Most bytes per second the noise source produces (12.5 MB/s = 100 Mbit/s)."),
        new(ParameterId.RngRepetitionCutoffSamples, DeviceClass.RandomNumberGenerator, "repetition count cutoff", "samples", 21, 1 << 20, 41, false, true,
            "The device's own Repetition Count Test (SP 800-90B 4.4.1) on its bit samples: this many equal bits in a row fail it (41: H = 1, alpha = 2^-40)."),
        new(ParameterId.RngProportionCutoffSamples, DeviceClass.RandomNumberGenerator, "adaptive proportion cutoff", "samples per 1024", 589, 1_025, 625, false, true,
            "The device's own Adaptive Proportion Test (SP 800-90B 4.4.2): this many bits of a 1024-bit window equal to its first fail it (625: H = 1, alpha = 2^-40; 1025: never)."),
    ];

    private static readonly Dictionary<ParameterId, ParameterDefinition> ById = Definitions.ToDictionary(d => d.Id);

    public static IReadOnlyList<ParameterDefinition> All => Definitions;

    /// <summary>The parameters a device of <paramref name="deviceClass"/> has (common ones included).</summary>
    public static IEnumerable<ParameterDefinition> For(DeviceClass deviceClass) =>
        Definitions.Where(d => d.DeviceClass == DeviceClass.Any || d.DeviceClass == deviceClass);

    /// <summary>The definition, or null when <paramref name="id"/> does not belong to <paramref name="deviceClass"/>.</summary>
    public static ParameterDefinition? Find(DeviceClass deviceClass, ParameterId id) =>
        ById.TryGetValue(id, out var d) && (d.DeviceClass == DeviceClass.Any || d.DeviceClass == deviceClass) ? d : null;

    /// <summary>By name as the CLI takes it ("gate width", "gate-width", "DetectorGateWidthPs"), or null.</summary>
    public static ParameterDefinition? FindByName(DeviceClass deviceClass, string name)
    {
        string wanted = Normalise(name);
        return For(deviceClass).FirstOrDefault(d => Normalise(d.Name) == wanted || Normalise(d.Id.ToString()) == wanted);
    }

    private static string Normalise(string s) => new(s.Where(char.IsLetterOrDigit).Select(char.ToLowerInvariant).ToArray());
}
