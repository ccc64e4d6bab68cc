using Qkd.Distillation.Protocol;
using Xunit.Sdk;

namespace Qkd.Distillation.Tests.Messages;

/// <summary>The malformed-input checks every message type must pass, given one encoded message and its decoder.</summary>
internal static class WireChecks
{
    /// <summary>
    /// Every proper prefix of <paramref name="message"/>, the empty one included, is refused with a
    /// <see cref="ProtocolException"/>: never accepted, never an index or argument error escaping the decoder.
    /// </summary>
    public static void EveryTruncationIsRejected(byte[] message, Action<byte[]> read)
    {
        for (int cut = 0; cut < message.Length; cut++)
        {
            var e = Record.Exception(() => read(message[..cut]));
            if (e is not ProtocolException)
                throw new XunitException($"Truncated to {cut} of {message.Length} bytes ({Convert.ToHexString(message[..cut])}): " +
                    (e is null ? "accepted" : $"{e.GetType().Name}: {e.Message}"));
        }
    }

    /// <summary>A byte after the last field is refused (the peer would be speaking another version of the protocol).</summary>
    public static void TrailingByteIsRejected(byte[] message, Action<byte[]> read)
    {
        var e = Assert.Throws<ProtocolException>(() => read([.. message, 0]));
        Assert.Contains("1 unexpected trailing bytes", e.Message);
    }

    /// <summary>The same bytes under any other type byte, known or not, are refused before any field is read.</summary>
    public static void OtherTypesAreRejected(byte[] message, MessageType type, Action<byte[]> read)
    {
        foreach (byte other in new byte[] { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 200 })
        {
            if (other == (byte)type) continue;
            byte[] relabelled = [other, .. message.AsSpan(1)];
            var e = Assert.Throws<ProtocolException>(() => read(relabelled));
            Assert.Contains($"Expected a {type} message", e.Message);
        }
    }

    /// <summary>All three checks.</summary>
    public static void MalformedIsRejected(byte[] message, MessageType type, Action<byte[]> read)
    {
        EveryTruncationIsRejected(message, read);
        TrailingByteIsRejected(message, read);
        OtherTypesAreRejected(message, type, read);
    }

    public static string Hex(ReadOnlyMemory<byte> message) => Convert.ToHexString(message.Span);
}
