using Qkd.Core.Bits;
using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Messages;

/// <summary>
/// Alice → Bob, answering <see cref="LdpcRevealRequest"/>: per frame asked, in the same order, the bits revealed.
/// Wire: block id, group count, then per group the frame index and the bits as a bit string.
/// </summary>
public readonly struct LdpcReveal
{
    public const MessageType Type = MessageType.LdpcReveal;

    public LdpcReveal(long blockId, (int Frame, PackedBits Bits)[] frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        BlockId = blockId;
        Frames = frames;
    }

    public long BlockId { get; }

    public (int Frame, PackedBits Bits)[] Frames { get; }

    /// <summary>Encodes the message into <paramref name="writer"/> (replacing what it held) and returns the bytes.</summary>
    public ReadOnlyMemory<byte> Write(ProtocolWriter writer)
    {
        writer.Begin(Type);
        writer.WriteVarInt64(BlockId);
        writer.WriteVarInt64(Frames.Length);
        foreach (var (frame, bits) in Frames)
        {
            writer.WriteVarInt64(frame);
            writer.WriteBits(bits);
        }
        return writer.Message;
    }

    /// <summary>Decodes the answer to <paramref name="request"/>: the same frames, each with exactly the bits asked.</summary>
    /// <exception cref="ProtocolException">Wrong type, truncated, trailing bytes, or groups that do not match the request.</exception>
    public static LdpcReveal Read(ReadOnlySpan<byte> message, LdpcRevealRequest request)
    {
        var reader = new ProtocolReader(message, Type);
        long blockId = reader.ReadVarInt64("block id");
        long groups = reader.ReadVarInt64("frame group count");
        if (groups != request.Frames.Length)
            throw new ProtocolException($"Block {blockId}: Alice revealed {groups} frames, {request.Frames.Length} asked.");
        var frames = new (int, PackedBits)[request.Frames.Length];
        for (int g = 0; g < frames.Length; g++)
        {
            var (asked, count) = request.Frames[g];
            long frame = reader.ReadVarInt64("frame index");
            if (frame != asked)
                throw new ProtocolException($"Block {blockId}: reveal group {g} is for frame {frame}, frame {asked} asked there.");
            var bits = new PackedBits(count);
            reader.ReadBits("revealed bits", bits, 0, count);
            frames[g] = (asked, bits);
        }
        reader.EnsureEnd(Type);
        return new LdpcReveal(blockId, frames);
    }
}
