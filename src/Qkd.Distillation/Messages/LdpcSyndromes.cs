using Qkd.Core.Bits;
using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Messages;

/// <summary>
/// Alice → Bob, answering <see cref="LdpcStart"/>: the syndrome of each frame's codeword, in frame order. Wire: block
/// id, frame count, then per frame its syndrome as a bit string (length, then the bits 8 per byte).
/// </summary>
public readonly struct LdpcSyndromes
{
    public const MessageType Type = MessageType.LdpcSyndromes;

    public LdpcSyndromes(long blockId, PackedBits[] syndromes)
    {
        ArgumentNullException.ThrowIfNull(syndromes);
        BlockId = blockId;
        Syndromes = syndromes;
    }

    public long BlockId { get; }

    public PackedBits[] Syndromes { get; }

    /// <summary>Encodes the message into <paramref name="writer"/> (replacing what it held) and returns the bytes.</summary>
    public ReadOnlyMemory<byte> Write(ProtocolWriter writer)
    {
        writer.Begin(Type);
        writer.WriteVarInt64(BlockId);
        writer.WriteVarInt64(Syndromes.Length);
        foreach (var syndrome in Syndromes) writer.WriteBits(syndrome);
        return writer.Message;
    }

    /// <summary>
    /// Decodes the syndromes, each of which must have exactly the bits <paramref name="expectedChecks"/> gives for its
    /// frame (the receiver's own plans), so a peer's length field can only be refused, never make Bob allocate.
    /// </summary>
    /// <exception cref="ProtocolException">Wrong type, truncated, trailing bytes, another frame count or a syndrome of
    /// another length than the frame's code has checks.</exception>
    public static LdpcSyndromes Read(ReadOnlySpan<byte> message, ReadOnlySpan<int> expectedChecks)
    {
        var reader = new ProtocolReader(message, Type);
        long blockId = reader.ReadVarInt64("block id");
        long frames = reader.ReadVarInt64("frame count");
        if (frames != expectedChecks.Length)
            throw new ProtocolException($"Block {blockId}: Alice sent syndromes for {frames} frames, Bob corrects {expectedChecks.Length}.");
        var syndromes = new PackedBits[expectedChecks.Length];
        for (int f = 0; f < syndromes.Length; f++)
        {
            syndromes[f] = new PackedBits(expectedChecks[f]);
            reader.ReadBits("syndrome", syndromes[f], 0, expectedChecks[f]);
        }
        reader.EnsureEnd(Type);
        return new LdpcSyndromes(blockId, syndromes);
    }
}
