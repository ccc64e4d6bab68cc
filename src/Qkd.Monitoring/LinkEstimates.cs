namespace Qkd.Monitoring;

/// <summary>
/// What the monitor estimated from one block (<see cref="LinkEstimator"/>). Null: not measurable on this block (no
/// counts of that kind, or the node did not report them). Per-intensity arrays are indexed by Intensity. No NaN.
/// </summary>
public sealed record LinkEstimates
{
    public required long BlockId { get; init; }

    public required DateTimeOffset Time { get; init; }

    /// <summary>Q_k = D_k / N_k per intensity (Signal, Decoy, Vacuum); null where no pulses were counted.</summary>
    public required double?[] Gains { get; init; }

    /// <summary>Y0: the probability of a click without signal light (dark counts, afterpulses, background), from the vacuum class.</summary>
    public double? BackgroundYield { get; init; }

    /// <summary>eta: the end-to-end transmittance (channel x receiver x detector efficiency) from the signal gain.</summary>
    public double? Transmittance { get; init; }

    /// <summary>-10 log10(eta), dB: the link's total loss as the signal gain sees it.</summary>
    public double? LossDb { get; init; }

    /// <summary>The same loss as the decoy gain gives it (agrees with <see cref="LossDb"/> on an honest Poisson channel).</summary>
    public double? DecoyLossDb { get; init; }

    public double? QberZ { get; init; }

    public double? QberX { get; init; }

    public required double?[] QberZPerIntensity { get; init; }

    public required double?[] QberXPerIntensity { get; init; }

    /// <summary>Y0 times the pulse rate: dark-count (background) rate per second of gates, Hz.</summary>
    public double? DarkCountRateHz { get; init; }

    /// <summary>Off-gate tags per pulse slot (afterpulses and dark counts between gates).</summary>
    public double? OffGateProbability { get; init; }

    /// <summary>Off-gate tags per second, Hz.</summary>
    public double? OffGateRateHz { get; init; }

    /// <summary>Each detector's share of the clicks (sums to 1).</summary>
    public double[]? DetectorShares { get; init; }

    /// <summary>The share of detector tags inside the acceptance gate.</summary>
    public double? InGateShare { get; init; }

    /// <summary>Each detector's mean arrival offset from the expected arrival, ps (null entries: too few tags).</summary>
    public double?[]? ArrivalMeanPs { get; init; }

    /// <summary>The spread (RMS) of all in-gate arrivals about their detector's mean, ps.</summary>
    public double? ArrivalSpreadPs { get; init; }
}
