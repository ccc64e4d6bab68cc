using Qkd.Core;
using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Messages;

/// <summary>
/// Bob → Alice after error correction, on a link whose finite-key analysis needs the key-basis errors per intensity
/// (the one-decoy analysis, <see cref="ParameterEstimation.Rusca2018Analysis"/>, bounds the vacuum events by the decoy
/// class's Z errors, Eq. A16; <see cref="ParameterEstimation.CurrasLorenzo2021Analysis"/> predicts the X errors' intensity
/// shares from them for Kato's inequality). The counts are public in those protocols, like the X errors of
/// <see cref="ParameterEstimate"/>; both ends size the key from them. Wire: block id, one error count per
/// <see cref="Intensity"/> class in class order. No reply.
/// </summary>
public readonly struct KeyErrorCounts
{
    public const MessageType Type = MessageType.KeyErrorCounts;

    /// <param name="errorsZ">Z-basis errors per intensity class, <see cref="Intensities.Count"/> of them, none negative.</param>
    public KeyErrorCounts(long blockId, long[] errorsZ)
    {
        ArgumentNullException.ThrowIfNull(errorsZ);
        if (errorsZ.Length != Intensities.Count)
            throw new ArgumentException($"{errorsZ.Length} error counts; one per intensity class ({Intensities.Count}) is expected.", nameof(errorsZ));
        BlockId = blockId;
        ErrorsZ = errorsZ;
    }

    public long BlockId { get; }

    /// <summary>Z-basis errors per intensity class, indexed by <see cref="Intensity"/>.</summary>
    public long[] ErrorsZ { get; }

    /// <summary>Encodes the message into <paramref name="writer"/> (replacing what it held) and returns the bytes.</summary>
    public ReadOnlyMemory<byte> Write(ProtocolWriter writer)
    {
        writer.Begin(Type);
        writer.WriteVarInt64(BlockId);
        foreach (long errors in ErrorsZ) writer.WriteVarInt64(errors);
        return writer.Message;
    }

    /// <summary>Decodes the counts; whether they fit the block's Z detections is the receiver's check.</summary>
    /// <exception cref="ProtocolException">Wrong type, truncated or trailing bytes.</exception>
    public static KeyErrorCounts Read(ReadOnlySpan<byte> message)
    {
        var reader = new ProtocolReader(message, Type);
        long blockId = reader.ReadVarInt64("block id");
        var errorsZ = new long[Intensities.Count];
        for (int k = 0; k < errorsZ.Length; k++) errorsZ[k] = reader.ReadVarInt64("Z errors");
        reader.EnsureEnd(Type);
        return new KeyErrorCounts(blockId, errorsZ);
    }
}
