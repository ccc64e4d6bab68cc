using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Messages;

/// <summary>
/// Alice → Bob, answering a <see cref="CorrectionStart"/>: one 64-bit Cascade schedule seed per frame, in frame
/// order, drawn by Alice so that Bob cannot steer the permutations. Wire: block id, frame count, then the seeds as
/// little-endian 64-bit words.
/// </summary>
public readonly struct CorrectionSeed
{
    public const MessageType Type = MessageType.CorrectionSeed;

    public CorrectionSeed(long blockId, ulong[] seeds)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        BlockId = blockId;
        Seeds = seeds;
    }

    public long BlockId { get; }

    /// <summary>The schedule seed of each frame, indexed by frame.</summary>
    public ulong[] Seeds { get; }

    /// <summary>Encodes the message into <paramref name="writer"/> (replacing what it held) and returns the bytes.</summary>
    public ReadOnlyMemory<byte> Write(ProtocolWriter writer)
    {
        writer.Begin(Type);
        writer.WriteVarInt64(BlockId);
        writer.WriteVarInt64(Seeds.Length);
        foreach (ulong seed in Seeds) writer.WriteUInt64(seed);
        return writer.Message;
    }

    /// <summary>Decodes the seeds; whether there is one per frame the receiver corrects is its own check.</summary>
    /// <exception cref="ProtocolException">Wrong type, truncated, trailing bytes, or more seeds than the message holds.</exception>
    public static CorrectionSeed Read(ReadOnlySpan<byte> message)
    {
        var reader = new ProtocolReader(message, Type);
        long blockId = reader.ReadVarInt64("block id");
        int frames = reader.ReadCount("frame count", int.MaxValue, minimumBytesEach: sizeof(ulong));
        var seeds = new ulong[frames];
        for (int f = 0; f < seeds.Length; f++) seeds[f] = reader.ReadUInt64("seed");
        reader.EnsureEnd(Type);
        return new CorrectionSeed(blockId, seeds);
    }
}
