using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Messages;

/// <summary>
/// Bob → Alice: disclose the announced pilot (<see cref="EmissionAnnouncement.PilotPulses"/>). Bob asks only once he has
/// measured every pulse the pilot can fall on, so the disclosure never precedes his measurement. Wire: the type byte.
/// </summary>
public readonly record struct PilotRequest
{
    public const MessageType Type = MessageType.PilotRequest;

    /// <summary>Encodes the message into <paramref name="writer"/> (replacing what it held) and returns the bytes.</summary>
    public ReadOnlyMemory<byte> Write(ProtocolWriter writer)
    {
        writer.Begin(Type);
        return writer.Message;
    }

    /// <exception cref="ProtocolException">Wrong type or trailing bytes.</exception>
    public static PilotRequest Read(ReadOnlySpan<byte> message)
    {
        var reader = new ProtocolReader(message, Type);
        reader.EnsureEnd(Type);
        return default;
    }
}
