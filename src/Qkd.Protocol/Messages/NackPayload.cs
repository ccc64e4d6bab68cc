using System.Buffers.Binary;
using System.Text;

namespace Qkd.Protocol.Messages;

/// <summary>The payload of a nack: error code (u16) then a UTF-8 text of at most 1024 bytes naming what was wrong.</summary>
public readonly record struct NackPayload(ErrorCode Code, string Text)
{
    public const int MaxTextBytes = 1024;

    public byte[] ToPayload()
    {
        byte[] text = Encoding.UTF8.GetBytes(Text);
        if (text.Length > MaxTextBytes)
        {
            // Cut before a character's continuation bytes (10xxxxxx), so the text stays valid UTF-8.
            int cut = MaxTextBytes;
            while (cut > 0 && (text[cut] & 0xC0) == 0x80) cut--;
            text = text[..cut];
        }
        var payload = new byte[2 + text.Length];
        BinaryPrimitives.WriteUInt16LittleEndian(payload, (ushort)Code);
        text.CopyTo(payload, 2);
        return payload;
    }

    public static NackPayload Read(ReadOnlySpan<byte> payload)
    {
        PayloadFormatException.Require(payload.Length >= 2 && payload.Length <= 2 + MaxTextBytes, $"nack: {payload.Length} bytes, 2..{2 + MaxTextBytes} expected.");
        return new NackPayload((ErrorCode)BinaryPrimitives.ReadUInt16LittleEndian(payload),
            Encoding.UTF8.GetString(payload[2..]));
    }
}
