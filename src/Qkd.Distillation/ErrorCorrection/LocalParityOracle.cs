namespace Qkd.Distillation.ErrorCorrection;

/// <summary>
/// An in-process oracle that hands Bob's queries straight to Alice's <see cref="CascadeResponder"/>: used in
/// tests, benchmarks and single-process emulation where both ends live in the same process.
/// </summary>
public sealed class LocalParityOracle(CascadeResponder responder) : IParityOracle
{
    private readonly CascadeResponder _responder = responder ?? throw new ArgumentNullException(nameof(responder));

    public ValueTask AnswerAsync(ReadOnlyMemory<ParityQuery> queries, Memory<byte> parities, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        _responder.Answer(queries.Span, parities.Span);
        return ValueTask.CompletedTask;
    }
}
