namespace Qkd.Distillation.ErrorCorrection;

/// <summary>
/// Outcome of one Cascade run on one frame, from Bob's side.
/// </summary>
/// <param name="LeakedBits">Parities Alice disclosed: exactly the answers Bob received. Privacy amplification must
/// subtract this many bits.</param>
/// <param name="CorrectedBits">Bits Bob flipped.</param>
/// <param name="Rounds">Oracle calls, i.e. round trips over the classical channel.</param>
/// <param name="FrameLength">Bits in the frame.</param>
/// <param name="QberEstimate">The QBER estimate the schedule was built for.</param>
public sealed record CascadeResult(long LeakedBits, long CorrectedBits, int Rounds, int FrameLength, double QberEstimate)
{
    /// <summary>Passes Bob opened (the final passes stop early once enough of them in a row were clean).</summary>
    public int PassesRun { get; init; }

    /// <summary>
    /// Reconciliation efficiency f = leaked / (n h2(q)): 1 is the Shannon limit, larger is worse. NaN when
    /// <paramref name="actualQber"/> is 0 (nothing to correct, any disclosure is overhead).
    /// </summary>
    public double Efficiency(double actualQber)
    {
        if (double.IsNaN(actualQber) || actualQber < 0 || actualQber > 1)
            throw new ArgumentOutOfRangeException(nameof(actualQber), actualQber, "A QBER must lie in [0, 1].");
        double bound = FrameLength * BinaryEntropy.H2(actualQber);
        return bound > 0 ? LeakedBits / bound : double.NaN;
    }
}
