using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Messages;

/// <summary>
/// Bob → Alice and echoed back unchanged: times the classical channel's round trip, for choosing the
/// reconciliation method per block. Wire: the sequence number (varint).
/// </summary>
public readonly record struct RoundTripProbe(ulong Sequence)
{
    public const MessageType Type = MessageType.RoundTripProbe;

    /// <summary>Encodes the message into <paramref name="writer"/> (replacing what it held) and returns the bytes.</summary>
    public ReadOnlyMemory<byte> Write(ProtocolWriter writer)
    {
        writer.Begin(Type);
        writer.WriteVarUInt64(Sequence);
        return writer.Message;
    }

    /// <exception cref="ProtocolException">Wrong type, truncated or trailing bytes.</exception>
    public static RoundTripProbe Read(ReadOnlySpan<byte> message)
    {
        var reader = new ProtocolReader(message, Type);
        ulong sequence = reader.ReadVarUInt64("sequence");
        reader.EnsureEnd(Type);
        return new RoundTripProbe(sequence);
    }
}
