using System.Buffers.Binary;

namespace Qkd.Kme.PeerLink;

/// <summary>
/// The first message each node sends on a fresh classical-channel session, before the distillers start: the link it
/// belongs to, the highest session it has seen, and the blocks its key pool holds from earlier sessions. Both ends then
/// take session = max + 1 and keep only the blocks both hold (a block one end stored just before the other was killed
/// is dropped at the end that has it, and counted), so the two pools agree.
/// </summary>
public sealed record SessionHello(string LinkId, long LastSession, IReadOnlyList<long> Blocks)
{
    private const uint Magic = 0x4F4C_4548; // "HELO"

    public byte[] ToMessage()
    {
        byte[] link = System.Text.Encoding.UTF8.GetBytes(LinkId);
        var message = new byte[4 + 2 + link.Length + 8 + 4 + 8 * Blocks.Count];
        BinaryPrimitives.WriteUInt32LittleEndian(message, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(4), (ushort)link.Length);
        link.CopyTo(message, 6);
        int at = 6 + link.Length;
        BinaryPrimitives.WriteInt64LittleEndian(message.AsSpan(at), LastSession);
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(at + 8), Blocks.Count);
        for (int i = 0; i < Blocks.Count; i++) BinaryPrimitives.WriteInt64LittleEndian(message.AsSpan(at + 12 + 8 * i), Blocks[i]);
        return message;
    }

    public static SessionHello Read(ReadOnlySpan<byte> message)
    {
        if (message.Length < 18 || BinaryPrimitives.ReadUInt32LittleEndian(message) != Magic)
            throw new InvalidDataException("session hello: not a hello message (is the peer a QkdDriver node of this version?)");
        int linkLength = BinaryPrimitives.ReadUInt16LittleEndian(message[4..]);
        int at = 6 + linkLength;
        if (message.Length < at + 12) throw new InvalidDataException("session hello: truncated");
        string link = System.Text.Encoding.UTF8.GetString(message.Slice(6, linkLength));
        long last = BinaryPrimitives.ReadInt64LittleEndian(message[at..]);
        int count = BinaryPrimitives.ReadInt32LittleEndian(message[(at + 8)..]);
        if (count < 0 || message.Length != at + 12 + 8L * count) throw new InvalidDataException($"session hello: {count} blocks do not match the length");
        var blocks = new long[count];
        for (int i = 0; i < count; i++) blocks[i] = BinaryPrimitives.ReadInt64LittleEndian(message[(at + 12 + 8 * i)..]);
        return new SessionHello(link, last, blocks);
    }
}
