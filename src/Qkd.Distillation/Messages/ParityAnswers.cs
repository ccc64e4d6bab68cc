using Qkd.Distillation.ErrorCorrection;
using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Messages;

/// <summary>
/// Alice → Bob, answering a <see cref="ParityQueries"/> round: per group, in the order asked, the frame index and
/// Alice's parities packed one bit each (preceded by their count). Wire: block id, group count, then the groups.
/// </summary>
/// <remarks>
/// The body is the round that was asked: Alice writes the parities from its slots, and Bob decodes them straight
/// into his correctors' answer slots. A reply must match the round group for group and query for query.
/// </remarks>
public readonly struct ParityAnswers
{
    public const MessageType Type = MessageType.ParityAnswers;

    public ParityAnswers(long blockId, MultiplexedParityRound round)
    {
        ArgumentNullException.ThrowIfNull(round);
        BlockId = blockId;
        Round = round;
    }

    public long BlockId { get; }

    /// <summary>The round answered; each group's parity slots hold the answers (0 or 1).</summary>
    public MultiplexedParityRound Round { get; }

    /// <summary>Encodes the message into <paramref name="writer"/> (replacing what it held) and returns the bytes.</summary>
    /// <exception cref="ArgumentException">A parity slot holds something other than 0 or 1 (it would be sent as its low bit).</exception>
    public ReadOnlyMemory<byte> Write(ProtocolWriter writer)
    {
        writer.Begin(Type);
        writer.WriteVarInt64(BlockId);
        writer.WriteVarInt64(Round.GroupCount);
        for (int g = 0; g < Round.GroupCount; g++)
        {
            var parities = Round.Parities(g).Span;
            if (parities.IndexOfAnyExcept((byte)0, (byte)1) is var bad and >= 0)
                throw new ArgumentException($"Frame {Round.FrameIndex(g)}: parity {parities[bad]} of query {bad} is neither 0 nor 1.");
            writer.WriteVarInt64(Round.FrameIndex(g));
            writer.WritePacked(parities, 1);
        }
        return writer.Message;
    }

    /// <summary>
    /// Decodes the answers to <paramref name="round"/> into its parity slots. The block id is returned for the caller
    /// to check against the block it is correcting.
    /// </summary>
    /// <exception cref="ProtocolException">Wrong type, truncated, trailing bytes, or answers that do not match the
    /// round: another number of groups, another frame in a group, another number of parities in a group.</exception>
    public static ParityAnswers Read(ReadOnlySpan<byte> message, MultiplexedParityRound round)
    {
        var reader = new ProtocolReader(message, Type);
        long blockId = reader.ReadVarInt64("block id");
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
        reader.EnsureEnd(Type);
        return new ParityAnswers(blockId, round);
    }
}
