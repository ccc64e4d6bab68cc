using Qkd.Core.Bits;
using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Messages;

/// <summary>
/// Bob → Alice: close block <see cref="BlockId"/> from the first <see cref="ZCount"/> Z and the first
/// <see cref="XBits"/>.Length X sifted records, and disclose Bob's X-basis bits (test bits, never key) so that Alice
/// can count the errors. Wire: block id, Z count, X count, then the X bits (bit length, 8 bits per byte).
/// </summary>
public readonly struct BlockStart
{
    public const MessageType Type = MessageType.BlockStart;

    public BlockStart(long blockId, long zCount, PackedBits xBits)
    {
        ArgumentNullException.ThrowIfNull(xBits);
        BlockId = blockId;
        ZCount = zCount;
        XBits = xBits;
    }

    public long BlockId { get; }

    public long ZCount { get; }

    /// <summary>Bob's X-basis bits; the block's X record count is their length.</summary>
    public PackedBits XBits { get; }

    /// <summary>Encodes the message into <paramref name="writer"/> (replacing what it held) and returns the bytes.</summary>
    public ReadOnlyMemory<byte> Write(ProtocolWriter writer)
    {
        writer.Begin(Type);
        writer.WriteVarInt64(BlockId);
        writer.WriteVarInt64(ZCount);
        writer.WriteVarInt64(XBits.Length);
        writer.WriteBits(XBits);
        return writer.Message;
    }

    /// <summary>
    /// Decodes a block start. The X bits are bounded by the message's own size, so a lying count cannot make the
    /// receiver allocate more than the bytes it was sent; whether the counts fit what the receiver has sifted is its
    /// own check.
    /// </summary>
    /// <exception cref="ProtocolException">Wrong type, truncated, trailing bytes, or X bits that do not match the X count.</exception>
    public static BlockStart Read(ReadOnlySpan<byte> message)
    {
        var reader = new ProtocolReader(message, Type);
        long blockId = reader.ReadVarInt64("block id");
        long zCount = reader.ReadVarInt64("Z count");
        long xCount = reader.ReadVarInt64("X count");
        PackedBits xBits = reader.ReadBits("Bob's X bits", xCount);
        reader.EnsureEnd(Type);
        if (xBits.Length != xCount)
            throw new ProtocolException($"Block {blockId}: Bob sent {xBits.Length} X bits for {xCount} X records.");
        return new BlockStart(blockId, zCount, xBits);
    }
}
