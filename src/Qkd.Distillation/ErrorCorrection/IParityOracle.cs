namespace Qkd.Distillation.ErrorCorrection;

/// <summary>
/// Answers parity queries with Alice's bits. In process this is <see cref="LocalParityOracle"/>; across a link it
/// is a message exchange over the authenticated classical channel.
/// </summary>
public interface IParityOracle
{
    /// <summary>
    /// Fills <paramref name="parities"/>[i] with Alice's parity (0 or 1) for <paramref name="queries"/>[i].
    /// Called once per protocol round with the whole batch of that round, so one call is one round trip.
    /// </summary>
    ValueTask AnswerAsync(ReadOnlyMemory<ParityQuery> queries, Memory<byte> parities, CancellationToken cancellationToken);
}
