using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Messages;

/// <summary>
/// Bob → Alice: a blind round. For each frame that did not decode, in increasing frame order, how many more bits
/// of its reveal order Bob needs (<c>LdpcFramePlan.RevealPosition</c>). Wire: block id, group count, then per group
/// frame index and bit count.
/// </summary>
public readonly struct LdpcRevealRequest
{
    public const MessageType Type = MessageType.LdpcRevealRequest;

    public LdpcRevealRequest(long blockId, (int Frame, int Bits)[] frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        BlockId = blockId;
        Frames = frames;
    }

    public long BlockId { get; }

    public (int Frame, int Bits)[] Frames { get; }

    /// <summary>Encodes the message into <paramref name="writer"/> (replacing what it held) and returns the bytes.</summary>
    public ReadOnlyMemory<byte> Write(ProtocolWriter writer)
    {
        writer.Begin(Type);
        writer.WriteVarInt64(BlockId);
        writer.WriteVarInt64(Frames.Length);
        foreach (var (frame, bits) in Frames)
        {
            writer.WriteVarInt64(frame);
            writer.WriteVarInt64(bits);
        }
        return writer.Message;
    }

    /// <summary>Decodes the request against a block of <paramref name="frameCount"/> frames.</summary>
    /// <exception cref="ProtocolException">Wrong type, truncated, trailing bytes, no group, frames out of range or
    /// not strictly increasing, or a bit count of zero.</exception>
    public static LdpcRevealRequest Read(ReadOnlySpan<byte> message, int frameCount)
    {
        var reader = new ProtocolReader(message, Type);
        long blockId = reader.ReadVarInt64("block id");
        int groups = reader.ReadCount("frame group count", frameCount, minimumBytesEach: 2);
        if (groups == 0) throw new ProtocolException($"Block {blockId}: a reveal request names no frame.");
        var frames = new (int, int)[groups];
        int last = -1;
        for (int g = 0; g < groups; g++)
        {
            int frame = reader.ReadCount("frame index", frameCount - 1);
            if (frame <= last) throw new ProtocolException($"Block {blockId}: reveal request frames not strictly increasing ({frame} after {last}).");
            int bits = reader.ReadCount("bit count", int.MaxValue);
            if (bits == 0) throw new ProtocolException($"Block {blockId} frame {frame}: a reveal request of 0 bits.");
            frames[g] = (frame, bits);
            last = frame;
        }
        reader.EnsureEnd(Type);
        return new LdpcRevealRequest(blockId, frames);
    }
}
