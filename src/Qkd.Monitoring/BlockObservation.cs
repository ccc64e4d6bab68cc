using Qkd.Core;

namespace Qkd.Monitoring;

/// <summary>
/// What a node knows after one block, as the monitor's input: counts, never rates, so every statistic's counting error
/// follows from them. The node fills it from its distiller's block result and its acquisition counters; a field the
/// node cannot fill stays null and its statistics are skipped. Per-intensity arrays are indexed by <see cref="Intensity"/>.
/// Contains no key material (counts and error counts are public: they are disclosed in the protocol).
/// </summary>
public sealed record BlockObservation
{
    /// <summary>The block's id (for alarms: the block an alarm was raised or cleared on).</summary>
    public required long BlockId { get; init; }

    /// <summary>When the block finished.</summary>
    public required DateTimeOffset Time { get; init; }

    /// <summary>mu_k, Alice's mean photon number per intensity class (Signal, Decoy, Vacuum).</summary>
    public required double[] MeanPhotonNumbers { get; init; }

    /// <summary>
    /// N_k: the pulses of class k the detection counts refer to. The node counts the pulses whose detections could have
    /// been sifted (the block's pulse span x p_k x the probability that the bases matched), so D_k / N_k is the gain
    /// Q_k per pulse.
    /// </summary>
    public required long[] Pulses { get; init; }

    /// <summary>D_k: detections of class k among those pulses (sifted Z plus sifted X).</summary>
    public required long[] Detections { get; init; }

    /// <summary>Sifted Z bits per intensity, and their errors (null when error correction did not run).</summary>
    public long[]? SiftedZ { get; init; }

    public long[]? ErrorsZ { get; init; }

    /// <summary>Sifted X bits per intensity and their errors (disclosed for parameter estimation).</summary>
    public long[]? SiftedX { get; init; }

    public long[]? ErrorsX { get; init; }

    /// <summary>Clicks per detector over the block's interval (index = detector); null when the node cannot count them.</summary>
    public long[]? ClicksPerDetector { get; init; }

    /// <summary>Detector tags placed inside the acceptance gate of a pulse slot over the block's interval.</summary>
    public long? InGateTags { get; init; }

    /// <summary>Detector tags that fell outside every gate (dark counts between gates, afterpulses, stray light).</summary>
    public long? OffGateTags { get; init; }

    /// <summary>Pulse slots the in-gate and off-gate counts cover (to turn off-gate counts into a probability per slot).</summary>
    public long? Slots { get; init; }

    /// <summary>
    /// Per detector: the in-gate tags whose arrival offsets are summed below (index = detector); null when the node
    /// cannot time them. With <see cref="ArrivalSumPs"/> and <see cref="ArrivalSumSquaresPs2"/> they give each
    /// detector's mean arrival offset and the spread of all arrivals (timing statistics).
    /// </summary>
    public long[]? ArrivalTags { get; init; }

    /// <summary>Per detector: the sum of the in-gate tags' offsets from the expected arrival, ps.</summary>
    public double[]? ArrivalSumPs { get; init; }

    /// <summary>Per detector: the sum of their squared offsets, ps^2.</summary>
    public double[]? ArrivalSumSquaresPs2 { get; init; }

    /// <summary>Pulse rate, Hz, to state dark-count and off-gate probabilities as rates; null: per pulse only.</summary>
    public double? PulseRateHz { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent field.</summary>
    public void Validate()
    {
        Require(MeanPhotonNumbers, nameof(MeanPhotonNumbers));
        Require(Pulses, nameof(Pulses));
        Require(Detections, nameof(Detections));
        for (int k = 0; k < Intensities.Count; k++)
        {
            if (!(MeanPhotonNumbers[k] >= 0 && double.IsFinite(MeanPhotonNumbers[k])))
                throw new ArgumentException($"{nameof(MeanPhotonNumbers)}[{(Intensity)k}] = {MeanPhotonNumbers[k]} is not a finite non-negative number.", nameof(MeanPhotonNumbers));
            if (Pulses[k] < 0 || Detections[k] < 0 || Detections[k] > Math.Max(Pulses[k], 0))
                throw new ArgumentException($"{nameof(Detections)}[{(Intensity)k}] = {Detections[k]} must lie in [0, {nameof(Pulses)}[{(Intensity)k}] = {Pulses[k]}].", nameof(Detections));
        }
        CheckErrors(SiftedZ, ErrorsZ, "Z");
        CheckErrors(SiftedX, ErrorsX, "X");
        if (ClicksPerDetector is { } clicks && clicks.Any(c => c < 0))
            throw new ArgumentException($"{nameof(ClicksPerDetector)} has a negative count.", nameof(ClicksPerDetector));
        if (ArrivalTags is not null || ArrivalSumPs is not null || ArrivalSumSquaresPs2 is not null)
        {
            if (ArrivalTags is null || ArrivalSumPs is null || ArrivalSumSquaresPs2 is null
                || ArrivalSumPs.Length != ArrivalTags.Length || ArrivalSumSquaresPs2.Length != ArrivalTags.Length)
                throw new ArgumentException($"{nameof(ArrivalTags)}, {nameof(ArrivalSumPs)} and {nameof(ArrivalSumSquaresPs2)} must be given together, one entry per detector.", nameof(ArrivalTags));
            for (int d = 0; d < ArrivalTags.Length; d++)
                if (ArrivalTags[d] < 0 || !double.IsFinite(ArrivalSumPs[d]) || !(ArrivalSumSquaresPs2[d] >= 0) || !double.IsFinite(ArrivalSumSquaresPs2[d]))
                    throw new ArgumentException($"Arrival statistics of detector {d} are invalid (tags {ArrivalTags[d]}, sum {ArrivalSumPs[d]} ps, sum of squares {ArrivalSumSquaresPs2[d]} ps^2).", nameof(ArrivalTags));
        }
        if (InGateTags < 0 || OffGateTags < 0 || Slots < 0)
            throw new ArgumentException("In-gate, off-gate and slot counts must be non-negative.", nameof(OffGateTags));
        if (PulseRateHz is double rate && !(rate > 0 && double.IsFinite(rate)))
            throw new ArgumentException($"{nameof(PulseRateHz)} = {rate} must be positive.", nameof(PulseRateHz));
    }

    private static void Require<T>(T[]? values, string name)
    {
        if (values is null || values.Length != Intensities.Count)
            throw new ArgumentException($"{name} must have {Intensities.Count} entries (Signal, Decoy, Vacuum), got {values?.Length.ToString() ?? "null"}.", name);
    }

    private static void CheckErrors(long[]? sifted, long[]? errors, string basis)
    {
        if (sifted is null) return;
        Require(sifted, "Sifted" + basis);
        if (errors is null) return;
        Require(errors, "Errors" + basis);
        for (int k = 0; k < Intensities.Count; k++)
            if (errors[k] < 0 || errors[k] > sifted[k])
                throw new ArgumentException($"Errors{basis}[{(Intensity)k}] = {errors[k]} must lie in [0, Sifted{basis}[{(Intensity)k}] = {sifted[k]}].", "Errors" + basis);
    }
}
