using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Messages;

/// <summary>
/// Bob → Alice: whether Bob's tag of his corrected block matched Alice's. On a mismatch both ends drop the block and
/// Alice does not reply. Wire: block id, then 1 (matched) or 0.
/// </summary>
public readonly record struct VerificationResult(long BlockId, bool Match)
{
    public const MessageType Type = MessageType.VerificationResult;

    /// <summary>Encodes the message into <paramref name="writer"/> (replacing what it held) and returns the bytes.</summary>
    public ReadOnlyMemory<byte> Write(ProtocolWriter writer)
    {
        writer.Begin(Type);
        writer.WriteVarInt64(BlockId);
        writer.WriteByte(Match ? (byte)1 : (byte)0);
        return writer.Message;
    }

    /// <exception cref="ProtocolException">Wrong type, truncated, trailing bytes, or a flag other than 0 or 1.</exception>
    public static VerificationResult Read(ReadOnlySpan<byte> message)
    {
        var reader = new ProtocolReader(message, Type);
        long blockId = reader.ReadVarInt64("block id");
        bool match = reader.ReadBoolean("match");
        reader.EnsureEnd(Type);
        return new VerificationResult(blockId, match);
    }
}
