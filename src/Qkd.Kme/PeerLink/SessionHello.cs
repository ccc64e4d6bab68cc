using System.Buffers.Binary;

namespace Qkd.Kme.PeerLink;

/// <summary>
/// The first message each node sends on a fresh classical-channel session, before the distillers start: the protocol
/// version it speaks, the link it belongs to, the highest session it has seen, and the blocks its key pool holds from
/// earlier sessions. Both ends then take session = max + 1 and keep only the blocks both hold (a block one end stored
/// just before the other was killed is dropped at the end that has it, and counted), so the two pools agree.
/// </summary>
/// <remarks>
/// Layout: "HELV", u16 protocol version, u16 link length, the link (UTF-8), i64 last session, i32 block count, the
/// blocks (i64 each), little-endian. Nodes before the version field sent "HELO" and the rest without it: they speak
/// version 1, and <see cref="Read"/> names that version when it refuses them.
/// </remarks>
public sealed record SessionHello(ushort ProtocolVersion, string LinkId, long LastSession, IReadOnlyList<long> Blocks)
{
    private const uint Magic = 0x564C_4548; // "HELV"
    private const uint MagicBeforeVersions = 0x4F4C_4548; // "HELO": version 1

    public byte[] ToMessage()
    {
        byte[] link = System.Text.Encoding.UTF8.GetBytes(LinkId);
        var message = new byte[4 + 2 + 2 + link.Length + 8 + 4 + 8 * Blocks.Count];
        BinaryPrimitives.WriteUInt32LittleEndian(message, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(4), ProtocolVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(6), (ushort)link.Length);
        link.CopyTo(message, 8);
        int at = 8 + link.Length;
        BinaryPrimitives.WriteInt64LittleEndian(message.AsSpan(at), LastSession);
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(at + 8), Blocks.Count);
        for (int i = 0; i < Blocks.Count; i++) BinaryPrimitives.WriteInt64LittleEndian(message.AsSpan(at + 12 + 8 * i), Blocks[i]);
        return message;
    }

    /// <summary>Reads a peer's hello; refuses one of another protocol version than <paramref name="protocolVersion"/>, naming both.</summary>
    /// <exception cref="InvalidDataException">Not a hello, a malformed one, or another protocol version.</exception>
    public static SessionHello Read(ReadOnlySpan<byte> message, ushort protocolVersion)
    {
        uint magic = message.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(message) : 0;
        ushort peerVersion = magic switch
        {
            Magic when message.Length >= 6 => BinaryPrimitives.ReadUInt16LittleEndian(message[4..]),
            MagicBeforeVersions => 1,
            _ => throw new InvalidDataException("session hello: not a hello message (is the peer a QkdDriver node?)"),
        };
        if (peerVersion != protocolVersion)
            throw new InvalidDataException(
                $"the peer speaks distillation protocol version {peerVersion}, this node version {protocolVersion}: run the same QkdDriver release at both ends");
        if (message.Length < 20) throw new InvalidDataException("session hello: truncated");
        int linkLength = BinaryPrimitives.ReadUInt16LittleEndian(message[6..]);
        int at = 8 + linkLength;
        if (message.Length < at + 12) throw new InvalidDataException("session hello: truncated");
        string link = System.Text.Encoding.UTF8.GetString(message.Slice(8, linkLength));
        long last = BinaryPrimitives.ReadInt64LittleEndian(message[at..]);
        int count = BinaryPrimitives.ReadInt32LittleEndian(message[(at + 8)..]);
        if (count < 0 || message.Length != at + 12 + 8L * count) throw new InvalidDataException($"session hello: {count} blocks do not match the length");
        var blocks = new long[count];
        for (int i = 0; i < count; i++) blocks[i] = BinaryPrimitives.ReadInt64LittleEndian(message[(at + 12 + 8 * i)..]);
        return new SessionHello(peerVersion, link, last, blocks);
    }
}
