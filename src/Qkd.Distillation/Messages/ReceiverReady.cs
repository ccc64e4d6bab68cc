using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Messages;

/// <summary>
/// Bob → Alice, in answer to an <see cref="EmissionAnnouncement"/> he accepts: his time tagger is streaming, so the
/// emission's first sync pulse and first photons find it listening. Alice starts emitting only after this. Wire: the
/// type byte alone.
/// </summary>
public readonly record struct ReceiverReady
{
    public const MessageType Type = MessageType.ReceiverReady;

    /// <summary>Encodes the message into <paramref name="writer"/> (replacing what it held) and returns the bytes.</summary>
    public ReadOnlyMemory<byte> Write(ProtocolWriter writer)
    {
        writer.Begin(Type);
        return writer.Message;
    }

    /// <exception cref="ProtocolException">Wrong type or trailing bytes.</exception>
    public static ReceiverReady Read(ReadOnlySpan<byte> message)
    {
        var reader = new ProtocolReader(message, Type);
        reader.EnsureEnd(Type);
        return default;
    }
}
