using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Messages;

/// <summary>
/// Either side: end of session, with a human-readable reason. Wire: the reason as UTF-8, preceded by its byte length.
/// </summary>
public readonly record struct Goodbye(string Reason)
{
    public const MessageType Type = MessageType.Goodbye;

    /// <summary>Longest reason accepted, in UTF-8 bytes: a log line, not a payload.</summary>
    public const int MaximumReasonBytes = 4096;

    /// <summary>Encodes the message into <paramref name="writer"/> (replacing what it held) and returns the bytes.</summary>
    public ReadOnlyMemory<byte> Write(ProtocolWriter writer)
    {
        ArgumentNullException.ThrowIfNull(Reason);
        writer.Begin(Type);
        writer.WriteString(Reason);
        return writer.Message;
    }

    /// <exception cref="ProtocolException">Wrong type, truncated, trailing bytes, or a reason longer than
    /// <see cref="MaximumReasonBytes"/>.</exception>
    public static Goodbye Read(ReadOnlySpan<byte> message)
    {
        var reader = new ProtocolReader(message, Type);
        string reason = reader.ReadString("reason", MaximumReasonBytes);
        reader.EnsureEnd(Type);
        return new Goodbye(reason);
    }
}
