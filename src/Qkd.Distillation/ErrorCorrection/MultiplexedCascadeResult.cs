namespace Qkd.Distillation.ErrorCorrection;

/// <summary>Outcome of correcting a block's frames together (<see cref="MultiplexedCascade"/>).</summary>
/// <param name="Frames">Each frame's result, in frame order: the same as that frame corrected alone.</param>
/// <param name="Rounds">Multiplexed rounds, i.e. round trips over the classical channel for the whole block.</param>
public sealed record MultiplexedCascadeResult(IReadOnlyList<CascadeResult> Frames, int Rounds)
{
    /// <summary>Parities disclosed over all frames.</summary>
    public long LeakedBits => Frames.Sum(f => f.LeakedBits);

    /// <summary>Bits Bob flipped over all frames.</summary>
    public long CorrectedBits => Frames.Sum(f => f.CorrectedBits);

    /// <summary>Rounds the frames would have cost one after the other (the sum of their own rounds).</summary>
    public int FrameRounds => Frames.Sum(f => f.Rounds);
}
