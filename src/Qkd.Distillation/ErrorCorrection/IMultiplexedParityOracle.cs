namespace Qkd.Distillation.ErrorCorrection;

/// <summary>
/// Answers one round of several frames at once (see <see cref="MultiplexedCascade"/>). Across a link one call is one
/// round trip whatever the number of frames, which is the point: every message on the authenticated channel costs a
/// one-time-pad tag.
/// </summary>
public interface IMultiplexedParityOracle
{
    /// <summary>Fills every group's parities with Alice's parities of that frame's queries.</summary>
    ValueTask AnswerAsync(MultiplexedParityRound round, CancellationToken cancellationToken);
}
