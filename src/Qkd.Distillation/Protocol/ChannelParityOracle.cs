using Qkd.Core.Channel;
using Qkd.Distillation.ErrorCorrection;

namespace Qkd.Distillation.Protocol;

/// <summary>
/// Bob's view of Alice's parity oracle across the classical channel: one ParityQueries message out and one
/// ParityAnswers message back per round of the whole block, each carrying a group per frame that asks in that
/// round (frame index, then that frame's queries or parities). See <see cref="MessageType.ParityQueries"/>.
/// </summary>
internal sealed class ChannelParityOracle(IClassicalChannel channel, ProtocolWriter writer, long blockId) : IMultiplexedParityOracle
{
    public async ValueTask AnswerAsync(MultiplexedParityRound round, CancellationToken cancellationToken)
    {
        Write(round);
        await channel.SendAsync(writer.Message, cancellationToken).ConfigureAwait(false);
        var reply = await channel.ReceiveAsync(cancellationToken).ConfigureAwait(false);
        Read(reply.Span, round);
    }

    private void Write(MultiplexedParityRound round)
    {
        writer.Begin(MessageType.ParityQueries);
        writer.WriteVarInt64(blockId);
        writer.WriteVarInt64(round.GroupCount);
        for (int g = 0; g < round.GroupCount; g++)
        {
            var queries = round.Queries(g).Span;
            writer.WriteVarInt64(round.FrameIndex(g));
            writer.WriteVarInt64(queries.Length);
            foreach (var q in queries)
            {
                writer.WriteVarInt64(q.Pass);
                writer.WriteVarInt64(q.Start);
                writer.WriteVarInt64(q.Length);
            }
        }
    }

    private void Read(ReadOnlySpan<byte> message, MultiplexedParityRound round)
    {
        var reader = new ProtocolReader(message, MessageType.ParityAnswers);
        long block = reader.ReadVarInt64("block id");
        if (block != blockId)
            throw new ProtocolException($"Parity answers for block {block} while block {blockId} is being corrected.");
        long groups = reader.ReadVarInt64("frame group count");
        if (groups != round.GroupCount)
            throw new ProtocolException($"Block {blockId}: Alice answered {groups} frames, {round.GroupCount} asked in this round.");
        for (int g = 0; g < round.GroupCount; g++)
        {
            long frame = reader.ReadVarInt64("frame index");
            if (frame != round.FrameIndex(g))
                throw new ProtocolException($"Block {blockId}: answer group {g} is for frame {frame}, but frame {round.FrameIndex(g)} asked there.");
            var parities = round.Parities(g).Span;
            int count = reader.ReadPacked("parities", 1, parities);
            if (count != parities.Length)
                throw new ProtocolException($"Block {blockId} frame {frame}: Alice answered {count} parities to {parities.Length} queries.");
        }
        reader.EnsureEnd(MessageType.ParityAnswers);
    }
}
