using Qkd.Core;

namespace Qkd.Monitoring;

/// <summary>
/// Builds a <see cref="BlockObservation"/> from what a distilled block reports (sifted counts and errors per basis and
/// intensity, its span of pulses) and what the link is set to, without depending on the distiller's types. The pulses
/// of class k that could have given a sifted detection are the span x p_k x P(bases match), with
/// P(bases match) = p_Z(Alice) p_Z(Bob) + (1 - p_Z(Alice)) (1 - p_Z(Bob)); the detections are sifted Z plus sifted X, so
/// D_k / N_k is the gain Q_k of the decoy-state analysis.
/// </summary>
public static class SiftedBlock
{
    /// <param name="spanPulses">The pulses the block's sifted bits came from (its light time x the pulse rate).</param>
    /// <param name="meanPhotonNumbers">mu_k per intensity.</param>
    /// <param name="probabilities">p_k per intensity.</param>
    /// <param name="receiver">Per-detector and gate counts over the block's interval (<see cref="ReceiverCounts"/>), or null.</param>
    public static BlockObservation Observation(long blockId, DateTimeOffset time, long spanPulses, double[] meanPhotonNumbers, double[] probabilities,
        double aliceProbabilityZ, double bobProbabilityZ, long[] siftedZ, long[] siftedX, long[]? errorsZ, long[] errorsX, double? pulseRateHz,
        ReceiverInterval? receiver = null)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        double match = aliceProbabilityZ * bobProbabilityZ + (1 - aliceProbabilityZ) * (1 - bobProbabilityZ);
        var pulses = new long[Intensities.Count];
        var detections = new long[Intensities.Count];
        for (int k = 0; k < Intensities.Count; k++)
        {
            detections[k] = siftedZ[k] + siftedX[k];
            pulses[k] = Math.Max(detections[k], (long)Math.Round(Math.Max(0, spanPulses) * probabilities[k] * match));
        }
        return new BlockObservation
        {
            BlockId = blockId,
            Time = time,
            MeanPhotonNumbers = meanPhotonNumbers,
            Pulses = pulses,
            Detections = detections,
            SiftedZ = siftedZ,
            ErrorsZ = errorsZ,
            SiftedX = siftedX,
            ErrorsX = errorsX,
            PulseRateHz = pulseRateHz is > 0 ? pulseRateHz : null,
            ClicksPerDetector = receiver?.ClicksPerDetector,
            InGateTags = receiver?.InGateTags,
            OffGateTags = receiver?.OffGateTags,
            Slots = receiver?.Slots,
            ArrivalTags = receiver?.Arrivals?.Tags,
            ArrivalSumPs = receiver?.Arrivals?.SumPs,
            ArrivalSumSquaresPs2 = receiver?.Arrivals?.SumSquaresPs2,
        };
    }
}

/// <summary>A receiver's counts over one block's interval (see <see cref="ReceiverCounts"/>).</summary>
public sealed record ReceiverInterval(long[] ClicksPerDetector, long InGateTags, long OffGateTags, long Slots)
{
    /// <summary>Arrival offsets of the in-gate tags per detector over the interval; null when the receiver does not time them.</summary>
    public ArrivalSums? Arrivals { get; init; }
}

/// <summary>Per detector: in-gate tags, the sum of their arrival offsets (ps) and of their squares (ps^2).</summary>
public sealed record ArrivalSums(long[] Tags, double[] SumPs, double[] SumSquaresPs2);

/// <summary>
/// Turns a receiver's cumulative counters (tags per detector, tags assigned to a pulse and outside every gate, the last
/// pulse slot reached) into counts per block interval: each <c>Take</c> returns what came since the previous one
/// (since the counters started, on the first).
/// Not thread-safe: one per acquisition front end, read on its consumer thread.
/// </summary>
public sealed class ReceiverCounts
{
    private long[] _clicks = [];
    private long _inGate, _offGate, _slot;
    private ArrivalSums? _arrivals;

    /// <summary>The interval since the last call; null when no pulse slot passed (or a counter went backwards: restarted).</summary>
    public ReceiverInterval? Take(ReadOnlySpan<long> clicksPerDetector, long inGate, long offGate, long lastSlot) =>
        Take(clicksPerDetector, inGate, offGate, lastSlot, null);

    /// <summary>
    /// As <see cref="Take(ReadOnlySpan{long}, long, long, long)"/>, with the cumulative arrival sums per detector
    /// (<paramref name="arrivals"/>, null when the receiver does not time its tags) turned into the interval's too.
    /// </summary>
    public ReceiverInterval? Take(ReadOnlySpan<long> clicksPerDetector, long inGate, long offGate, long lastSlot, ArrivalSums? arrivals)
    {
        ArrivalSums? arrivalDelta = null;
        if (arrivals is not null)
        {
            int n = arrivals.Tags.Length;
            var tags = new long[n];
            var sum = new double[n];
            var squares = new double[n];
            var before = _arrivals;
            for (int d = 0; d < n; d++)
            {
                bool had = before is not null && d < before.Tags.Length;
                tags[d] = arrivals.Tags[d] - (had ? before!.Tags[d] : 0);
                sum[d] = arrivals.SumPs[d] - (had ? before!.SumPs[d] : 0);
                squares[d] = Math.Max(0, arrivals.SumSquaresPs2[d] - (had ? before!.SumSquaresPs2[d] : 0));
            }
            _arrivals = new ArrivalSums((long[])arrivals.Tags.Clone(), (double[])arrivals.SumPs.Clone(), (double[])arrivals.SumSquaresPs2.Clone());
            if (tags.All(t => t >= 0)) arrivalDelta = new ArrivalSums(tags, sum, squares);
        }
        var delta = new long[clicksPerDetector.Length];
        for (int d = 0; d < delta.Length; d++) delta[d] = clicksPerDetector[d] - (d < _clicks.Length ? _clicks[d] : 0);
        var interval = new ReceiverInterval(delta, inGate - _inGate, offGate - _offGate, lastSlot - _slot) { Arrivals = arrivalDelta };
        _clicks = clicksPerDetector.ToArray();
        (_inGate, _offGate, _slot) = (inGate, offGate, Math.Max(lastSlot, 0));
        return interval.Slots > 0 && interval.InGateTags >= 0 && interval.OffGateTags >= 0 && delta.All(c => c >= 0) ? interval : null;
    }
}
