namespace Qkd.Protocol.Messages;

/// <summary>A payload does not match its message's layout; the message names the message and the field.</summary>
public sealed class PayloadFormatException(string message) : FormatException(message)
{
    internal static void Require(bool condition, string message)
    {
        if (!condition) throw new PayloadFormatException(message);
    }
}
