namespace Qkd.Lab;

/// <summary>What <c>qkd calibrate detector</c> found (schema: Schemas/detector-calibration.schema.json).</summary>
public sealed record DetectorCalibrationReport(
    string Kind, string Source, double DarkDurationSeconds, IReadOnlyList<DetectorChannelReport> Channels, DetectorEfficiencyReport? Efficiency,
    IReadOnlyList<string> Plots);

/// <summary>One detector head: dark counts (light blocked), dead time and afterpulsing from its click-to-next-click histogram.</summary>
public sealed record DetectorChannelReport(
    ushort Channel, long Clicks, double DarkCountRateHz, double DarkCountRateUncertaintyHz, double ClickRateHz, double? DeadTimePs,
    double? AfterpulseProbability, double? AfterpulseProbabilityUncertainty, double? AfterpulseDecayPs, double? AfterpulseDecayUncertaintyPs)
{
    /// <summary>Click-to-next-click intervals the dead time and afterpulsing were read from.</summary>
    public long Intervals { get; init; }

    /// <summary>The dead time's resolution: its bin width over sqrt(12), ps; null without a dead time.</summary>
    public double? DeadTimeUncertaintyPs { get; init; }

    /// <summary>Afterpulses found: the counts above the background that the probability is made of.</summary>
    public double? AfterpulseCounts { get; init; }
}

/// <summary>The heads' efficiency from the capture with light; null where a head fired in every live pulse slot (no finite estimate).</summary>
public sealed record DetectorEfficiencyReport(double? Efficiency, double? Uncertainty, double MeanPhotonNumber, double Transmittance, long Pulses)
{
    /// <summary>Clicks of all heads in the capture with light: the counts the efficiency was measured from.</summary>
    public long? LightClicks { get; init; }
}
