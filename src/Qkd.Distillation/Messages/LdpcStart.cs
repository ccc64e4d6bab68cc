using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Messages;

/// <summary>
/// Bob → Alice: correct the whole block by rate-adaptive LDPC, split into <see cref="FrameCount"/> frames the way
/// both ends split it (<see cref="BlockMath.FrameStart"/>), with Bob's QBER estimate, from which both ends plan every
/// frame (mother code, punctured and shortened bits). Wire: block id, frame count, QBER estimate (IEEE 754 double,
/// little-endian).
/// </summary>
public readonly record struct LdpcStart(long BlockId, int FrameCount, double QberEstimate)
{
    public const MessageType Type = MessageType.LdpcStart;

    /// <summary>Encodes the message into <paramref name="writer"/> (replacing what it held) and returns the bytes.</summary>
    public ReadOnlyMemory<byte> Write(ProtocolWriter writer)
    {
        writer.Begin(Type);
        writer.WriteVarInt64(BlockId);
        writer.WriteVarInt64(FrameCount);
        writer.WriteDouble(QberEstimate);
        return writer.Message;
    }

    /// <summary>Decodes the start; whether the frames and estimate suit the block is the receiver's check.</summary>
    /// <exception cref="ProtocolException">Wrong type, truncated, trailing bytes, or a frame count beyond an int.</exception>
    public static LdpcStart Read(ReadOnlySpan<byte> message)
    {
        var reader = new ProtocolReader(message, Type);
        long blockId = reader.ReadVarInt64("block id");
        int frameCount = reader.ReadCount("frame count", int.MaxValue);
        double qber = reader.ReadDouble("QBER estimate");
        reader.EnsureEnd(Type);
        return new LdpcStart(blockId, frameCount, qber);
    }
}
