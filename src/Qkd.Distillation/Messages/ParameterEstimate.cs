using Qkd.Core;
using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Messages;

/// <summary>
/// Alice → Bob, answering a <see cref="BlockStart"/>: the X-basis errors she counted per intensity class and her
/// parameter-estimation verdict. Bob repeats the estimate from the same counts and must reach the same verdict.
/// Wire: block id, one error count per <see cref="Intensity"/> class in class order, then the verdict byte
/// (0 = go on with the block, 1 = abort it).
/// </summary>
public readonly struct ParameterEstimate
{
    public const MessageType Type = MessageType.ParameterEstimate;

    /// <param name="errorsX">X-basis errors per intensity class, <see cref="Intensities.Count"/> of them.</param>
    public ParameterEstimate(long blockId, long[] errorsX, bool proceed)
    {
        ArgumentNullException.ThrowIfNull(errorsX);
        if (errorsX.Length != Intensities.Count)
            throw new ArgumentException($"{errorsX.Length} error counts; one per intensity class ({Intensities.Count}) is expected.", nameof(errorsX));
        BlockId = blockId;
        ErrorsX = errorsX;
        Proceed = proceed;
    }

    public long BlockId { get; }

    /// <summary>X-basis errors per intensity class, indexed by <see cref="Intensity"/>.</summary>
    public long[] ErrorsX { get; }

    /// <summary>True when Alice goes on with the block, false when parameter estimation aborted it.</summary>
    public bool Proceed { get; }

    /// <summary>Encodes the message into <paramref name="writer"/> (replacing what it held) and returns the bytes.</summary>
    public ReadOnlyMemory<byte> Write(ProtocolWriter writer)
    {
        writer.Begin(Type);
        writer.WriteVarInt64(BlockId);
        foreach (long errors in ErrorsX) writer.WriteVarInt64(errors);
        writer.WriteByte(Proceed ? (byte)0 : (byte)1);
        return writer.Message;
    }

    /// <summary>Decodes a parameter estimate; whether the counts fit the block's X bits is the receiver's check.</summary>
    /// <exception cref="ProtocolException">Wrong type, truncated, trailing bytes, or a verdict byte other than 0 or 1.</exception>
    public static ParameterEstimate Read(ReadOnlySpan<byte> message)
    {
        var reader = new ProtocolReader(message, Type);
        long blockId = reader.ReadVarInt64("block id");
        var errorsX = new long[Intensities.Count];
        for (int k = 0; k < errorsX.Length; k++) errorsX[k] = reader.ReadVarInt64("X errors");
        bool abort = reader.ReadBoolean("verdict");
        reader.EnsureEnd(Type);
        return new ParameterEstimate(blockId, errorsX, !abort);
    }
}
