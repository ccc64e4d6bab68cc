namespace Qkd.Lab;

/// <summary>What <c>qkd calibrate detector</c> found (schema: Schemas/detector-calibration.schema.json).</summary>
public sealed record DetectorCalibrationReport(
    string Kind, string Source, double DarkDurationSeconds, IReadOnlyList<DetectorChannelReport> Channels, DetectorEfficiencyReport? Efficiency,
    IReadOnlyList<string> Plots);

/// <summary>One detector head: dark counts (light blocked), dead time and afterpulsing from its click-to-next-click histogram.</summary>
public sealed record DetectorChannelReport(
    ushort Channel, long Clicks, double DarkCountRateHz, double DarkCountRateUncertaintyHz, double ClickRateHz, double? DeadTimePs,
    double? AfterpulseProbability, double? AfterpulseProbabilityUncertainty, double? AfterpulseDecayPs, double? AfterpulseDecayUncertaintyPs);

/// <summary>The heads' efficiency from the capture with light; null where a head fired in every live pulse slot (no finite estimate).</summary>
public sealed record DetectorEfficiencyReport(double? Efficiency, double? Uncertainty, double MeanPhotonNumber, double Transmittance, long Pulses);
