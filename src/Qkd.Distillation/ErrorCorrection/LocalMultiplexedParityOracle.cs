namespace Qkd.Distillation.ErrorCorrection;

/// <summary>
/// The in-process counterpart of a multiplexed exchange: each group is handed to its frame's
/// <see cref="CascadeResponder"/> (tests, benchmarks). Counts the rounds it answered.
/// </summary>
public sealed class LocalMultiplexedParityOracle(IReadOnlyList<CascadeResponder> responders) : IMultiplexedParityOracle
{
    private readonly IReadOnlyList<CascadeResponder> _responders = responders ?? throw new ArgumentNullException(nameof(responders));

    /// <summary>Rounds answered so far.</summary>
    public int Rounds { get; private set; }

    public ValueTask AnswerAsync(MultiplexedParityRound round, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Rounds++;
        for (int g = 0; g < round.GroupCount; g++)
            _responders[round.FrameIndex(g)].Answer(round.Queries(g).Span, round.Parities(g).Span);
        return ValueTask.CompletedTask;
    }
}
