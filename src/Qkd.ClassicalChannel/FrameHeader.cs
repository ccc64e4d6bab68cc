using System.Buffers.Binary;

namespace Qkd.ClassicalChannel;

/// <summary>
/// The authenticated header at the start of every frame body. On the wire a frame is
/// <c>u32 frame length | header (64 bytes) | payload | tag (16 bytes)</c>, little-endian; the tag covers header and
/// payload. Layout: version (1), type (1), sender end (1), flags (1), payload length (u32), pad index (u64), session id
/// (16), connector nonce (u64), listener nonce (u64), sequence (u64), acknowledged sequence (u64).
/// </summary>
/// <param name="PadIndex">Which of the sender's tag pads the tag uses (strictly increasing per sender: replay detection).</param>
/// <param name="Sequence">Data/End: the message's sequence number (1, 2, ...) in the sender's direction; otherwise 0.</param>
/// <param name="Acknowledged">The last sequence number the sender has received in order from the other direction.</param>
public readonly record struct FrameHeader(
    FrameType Type,
    ChannelEnd Sender,
    byte Flags,
    int PayloadLength,
    long PadIndex,
    Guid SessionId,
    ulong ConnectorNonce,
    ulong ListenerNonce,
    long Sequence,
    long Acknowledged)
{
    public const byte Version = 1;
    public const int Size = 64;
    public const int Overhead = Size + Gf128PolynomialHash.TagBytes;

    /// <summary>Flag: the sender has exchanged data in this session (so its session cannot silently restart).</summary>
    public const byte HasDataFlag = 1;

    public void Write(Span<byte> destination)
    {
        destination[0] = Version;
        destination[1] = (byte)Type;
        destination[2] = (byte)Sender;
        destination[3] = Flags;
        BinaryPrimitives.WriteInt32LittleEndian(destination[4..], PayloadLength);
        BinaryPrimitives.WriteInt64LittleEndian(destination[8..], PadIndex);
        SessionId.TryWriteBytes(destination[16..32]);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[32..], ConnectorNonce);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[40..], ListenerNonce);
        BinaryPrimitives.WriteInt64LittleEndian(destination[48..], Sequence);
        BinaryPrimitives.WriteInt64LittleEndian(destination[56..], Acknowledged);
    }

    /// <summary>Parses a header; null when the version or a field is impossible (a malformed frame).</summary>
    public static FrameHeader? TryRead(ReadOnlySpan<byte> source)
    {
        if (source.Length < Size || source[0] != Version) return null;
        var type = (FrameType)source[1];
        if (type < FrameType.Hello || type > FrameType.End || source[2] > 1) return null;
        int length = BinaryPrimitives.ReadInt32LittleEndian(source[4..]);
        long pad = BinaryPrimitives.ReadInt64LittleEndian(source[8..]);
        long seq = BinaryPrimitives.ReadInt64LittleEndian(source[48..]);
        long ack = BinaryPrimitives.ReadInt64LittleEndian(source[56..]);
        if (length < 0 || pad < 0 || seq < 0 || ack < 0) return null;
        return new FrameHeader(type, (ChannelEnd)source[2], source[3], length, pad, new Guid(source[16..32]),
            BinaryPrimitives.ReadUInt64LittleEndian(source[32..]), BinaryPrimitives.ReadUInt64LittleEndian(source[40..]), seq, ack);
    }
}
