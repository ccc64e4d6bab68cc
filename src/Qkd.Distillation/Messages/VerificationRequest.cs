using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Messages;

/// <summary>
/// Bob → Alice: error correction of the block is done; Bob's count of the parities disclosed, which must equal
/// Alice's before she picks the verification hash. Wire: block id, leaked bits.
/// </summary>
public readonly record struct VerificationRequest(long BlockId, long LeakedBits)
{
    public const MessageType Type = MessageType.VerificationRequest;

    /// <summary>Encodes the message into <paramref name="writer"/> (replacing what it held) and returns the bytes.</summary>
    public ReadOnlyMemory<byte> Write(ProtocolWriter writer)
    {
        writer.Begin(Type);
        writer.WriteVarInt64(BlockId);
        writer.WriteVarInt64(LeakedBits);
        return writer.Message;
    }

    /// <exception cref="ProtocolException">Wrong type, truncated or trailing bytes.</exception>
    public static VerificationRequest Read(ReadOnlySpan<byte> message)
    {
        var reader = new ProtocolReader(message, Type);
        long blockId = reader.ReadVarInt64("block id");
        long leaked = reader.ReadVarInt64("leaked bits");
        reader.EnsureEnd(Type);
        return new VerificationRequest(blockId, leaked);
    }
}
