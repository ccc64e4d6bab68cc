using Qkd.Core.Channel;
using Qkd.Distillation.ErrorCorrection;
using Qkd.Distillation.Messages;

namespace Qkd.Distillation.Protocol;

/// <summary>
/// Bob's view of Alice's parity oracle across the classical channel: one <see cref="ParityQueries"/> message out and
/// one <see cref="ParityAnswers"/> message back per round of the whole block, each carrying a group per frame that
/// asks in that round.
/// </summary>
internal sealed class ChannelParityOracle(IClassicalChannel channel, ProtocolWriter writer, long blockId) : IMultiplexedParityOracle
{
    /// <summary>Stopwatch ticks spent from sending each round's queries to holding Alice's answers.</summary>
    public long WaitTicks { get; private set; }

    public async ValueTask AnswerAsync(MultiplexedParityRound round, CancellationToken cancellationToken)
    {
        long sent = System.Diagnostics.Stopwatch.GetTimestamp();
        await channel.SendAsync(new ParityQueries(blockId, round).Write(writer), cancellationToken).ConfigureAwait(false);
        var reply = await channel.ReceiveAsync(cancellationToken).ConfigureAwait(false);
        WaitTicks += System.Diagnostics.Stopwatch.GetTimestamp() - sent;
        var answers = ParityAnswers.Read(reply.Span, round);
        if (answers.BlockId != blockId)
            throw new ProtocolException($"Parity answers for block {answers.BlockId} while block {blockId} is being corrected.");
    }
}
