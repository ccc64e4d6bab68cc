using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Messages;

/// <summary>
/// Bob → Alice: the block's key is stored at Bob (or the block is discarded), so Alice stores or drops hers. Alice
/// does not reply. Wire: block id, then 1 (stored) or 0.
/// </summary>
public readonly record struct BlockDone(long BlockId, bool Stored)
{
    public const MessageType Type = MessageType.BlockDone;

    /// <summary>Encodes the message into <paramref name="writer"/> (replacing what it held) and returns the bytes.</summary>
    public ReadOnlyMemory<byte> Write(ProtocolWriter writer)
    {
        writer.Begin(Type);
        writer.WriteVarInt64(BlockId);
        writer.WriteByte(Stored ? (byte)1 : (byte)0);
        return writer.Message;
    }

    /// <exception cref="ProtocolException">Wrong type, truncated, trailing bytes, or a flag other than 0 or 1.</exception>
    public static BlockDone Read(ReadOnlySpan<byte> message)
    {
        var reader = new ProtocolReader(message, Type);
        long blockId = reader.ReadVarInt64("block id");
        bool stored = reader.ReadBoolean("stored");
        reader.EnsureEnd(Type);
        return new BlockDone(blockId, stored);
    }
}
