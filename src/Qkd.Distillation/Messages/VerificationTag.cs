using Qkd.Distillation.Protocol;
using Qkd.Distillation.Verification;

namespace Qkd.Distillation.Messages;

/// <summary>
/// Alice → Bob, answering a <see cref="VerificationRequest"/>: the polynomial-hash keys Alice drew and her tag of
/// the block under them, one key and one tag word per lane. Wire: block id, lane count (at most
/// <see cref="PolynomialHash.MaxLanes"/>), the keys, then the tag words, each a little-endian 64-bit word.
/// </summary>
public readonly struct VerificationTag
{
    public const MessageType Type = MessageType.VerificationTag;

    public VerificationTag(long blockId, ulong[] keys, ulong[] tag)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(tag);
        // One lane count on the wire covers both lists.
        if (keys.Length != tag.Length)
            throw new ArgumentException($"{keys.Length} hash keys but {tag.Length} tag words; one of each per lane.", nameof(tag));
        if (keys.Length > PolynomialHash.MaxLanes)
            throw new ArgumentException($"{keys.Length} lanes; the protocol carries at most {PolynomialHash.MaxLanes}.", nameof(keys));
        BlockId = blockId;
        Keys = keys;
        Tag = tag;
    }

    public long BlockId { get; }

    /// <summary>One hash key per lane.</summary>
    public ulong[] Keys { get; }

    /// <summary>Alice's tag, one word per lane.</summary>
    public ulong[] Tag { get; }

    public int Lanes => Keys.Length;

    /// <summary>Encodes the message into <paramref name="writer"/> (replacing what it held) and returns the bytes.</summary>
    public ReadOnlyMemory<byte> Write(ProtocolWriter writer)
    {
        writer.Begin(Type);
        writer.WriteVarInt64(BlockId);
        writer.WriteVarInt64(Keys.Length);
        foreach (ulong key in Keys) writer.WriteUInt64(key);
        foreach (ulong word in Tag) writer.WriteUInt64(word);
        return writer.Message;
    }

    /// <summary>Decodes a tag; whether the lane count is the one the security parameters require is the receiver's check.</summary>
    /// <exception cref="ProtocolException">Wrong type, truncated, trailing bytes, or more than <see cref="PolynomialHash.MaxLanes"/> lanes.</exception>
    public static VerificationTag Read(ReadOnlySpan<byte> message)
    {
        var reader = new ProtocolReader(message, Type);
        long blockId = reader.ReadVarInt64("block id");
        int lanes = reader.ReadCount("lanes", PolynomialHash.MaxLanes);
        var keys = new ulong[lanes];
        var tag = new ulong[lanes];
        for (int i = 0; i < lanes; i++) keys[i] = reader.ReadUInt64("hash key");
        for (int i = 0; i < lanes; i++) tag[i] = reader.ReadUInt64("tag");
        reader.EnsureEnd(Type);
        return new VerificationTag(blockId, keys, tag);
    }
}
