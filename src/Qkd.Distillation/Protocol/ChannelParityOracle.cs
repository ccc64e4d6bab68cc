using Qkd.Distillation.Channel;
using Qkd.Distillation.ErrorCorrection;

namespace Qkd.Distillation.Protocol;

/// <summary>
/// Bob's view of Alice's parity oracle across the classical channel: one ParityQueries message out, one
/// ParityAnswers message back per Cascade round.
/// </summary>
internal sealed class ChannelParityOracle(IClassicalChannel channel, ProtocolWriter writer, long blockId, int frameIndex) : IParityOracle
{
    public async ValueTask AnswerAsync(ReadOnlyMemory<ParityQuery> queries, Memory<byte> parities, CancellationToken cancellationToken)
    {
        writer.Begin(MessageType.ParityQueries);
        writer.WriteVarInt64(blockId);
        writer.WriteVarInt64(frameIndex);
        writer.WriteVarInt64(queries.Length);
        foreach (var q in queries.Span)
        {
            writer.WriteVarInt64(q.Pass);
            writer.WriteVarInt64(q.Start);
            writer.WriteVarInt64(q.Length);
        }
        await channel.SendAsync(writer.Message, cancellationToken).ConfigureAwait(false);

        var reply = await channel.ReceiveAsync(cancellationToken).ConfigureAwait(false);
        Read(reply.Span, queries.Length, parities.Span);
    }

    private void Read(ReadOnlySpan<byte> message, int expected, Span<byte> parities)
    {
        var reader = new ProtocolReader(message, MessageType.ParityAnswers);
        long block = reader.ReadVarInt64("block id");
        long frame = reader.ReadVarInt64("frame index");
        if (block != blockId || frame != frameIndex)
            throw new ProtocolException($"Parity answers for block {block} frame {frame} while block {blockId} frame {frameIndex} is being corrected.");
        int count = reader.ReadPacked("parities", 1, parities);
        if (count != expected)
            throw new ProtocolException($"Alice answered {count} parities to {expected} queries.");
        reader.EnsureEnd(MessageType.ParityAnswers);
    }
}
