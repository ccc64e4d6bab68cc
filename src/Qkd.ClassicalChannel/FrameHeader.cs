using System.Buffers.Binary;

namespace Qkd.ClassicalChannel;

/// <summary>
/// The authenticated header at the start of every frame body. On the wire a frame is
/// <c>u32 frame length | header (80 bytes) | payload | tag (16 bytes)</c>, little-endian; the tag covers header and
/// payload. Layout: version (1), type (1), sender end (1), flags (1), payload length (u32), pad index (u64), session id
/// (16), connector nonce (u64), listener nonce (u64), sequence (u64), acknowledged sequence (u64), channel (1),
/// reserved (7, zero), hash key epoch (u64).
/// </summary>
/// <param name="PadIndex">Which chunk of the sender's lane the tag uses (strictly increasing per lane: replay detection);
/// for <see cref="FrameType.Refused"/> a chunk of the sender's notice reserve.</param>
/// <param name="Sequence">Data/End: the message's sequence number (1, 2, ...) in the sender's direction; otherwise 0.</param>
/// <param name="Acknowledged">The last sequence number the sender has received in order from the other direction.</param>
/// <param name="Channel">The channel the frame belongs to (its pad lane); a frame of another channel is refused.</param>
/// <param name="KeyEpoch">The hash key the tag uses: the number of replenishments applied (0: the pre-shared key).</param>
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
    long Acknowledged,
    ChannelKind Channel = ChannelKind.Session,
    long KeyEpoch = 0)
{
    /// <summary>Version 2: channel and key epoch in the header, fragments, refusals (version 1 had neither).</summary>
    public const byte Version = 2;
    public const int Size = 80;
    public const int Overhead = Size + Gf128PolynomialHash.TagBytes;

    /// <summary>Flag: the sender has exchanged data in this session (so its session cannot silently restart).</summary>
    public const byte HasDataFlag = 1;

    /// <summary>Flag (Data): the message goes on in the next frame (messages larger than a fragment are cut).</summary>
    public const byte MoreFragmentsFlag = 2;

    /// <summary>
    /// Flag (handshake): the sender has never completed a handshake with this peer, and the tag also covers a digest of
    /// its whole pre-shared secret, so secrets that differ anywhere fail here, at first contact, and are named.
    /// </summary>
    public const byte CoversSecretFlag = 4;

    private const byte KnownFlags = HasDataFlag | MoreFragmentsFlag | CoversSecretFlag;

    public void Write(Span<byte> destination)
    {
        destination[..Size].Clear();
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
        destination[64] = (byte)Channel;
        BinaryPrimitives.WriteInt64LittleEndian(destination[72..], KeyEpoch);
    }

    /// <summary>The version byte of a frame body (0 when empty): a peer of another release is named by it.</summary>
    public static byte VersionOf(ReadOnlySpan<byte> source) => source.IsEmpty ? (byte)0 : source[0];

    /// <summary>Parses a header; null when the version or a field is impossible (a malformed frame).</summary>
    public static FrameHeader? TryRead(ReadOnlySpan<byte> source)
    {
        if (source.Length < Size || source[0] != Version) return null;
        var type = (FrameType)source[1];
        if (type < FrameType.Hello || type > FrameType.Refused || source[2] > 1 || (source[3] & ~KnownFlags) != 0 || source[64] > 1) return null;
        for (int i = 65; i < 72; i++)
            if (source[i] != 0) return null;
        int length = BinaryPrimitives.ReadInt32LittleEndian(source[4..]);
        long pad = BinaryPrimitives.ReadInt64LittleEndian(source[8..]);
        long seq = BinaryPrimitives.ReadInt64LittleEndian(source[48..]);
        long ack = BinaryPrimitives.ReadInt64LittleEndian(source[56..]);
        long epoch = BinaryPrimitives.ReadInt64LittleEndian(source[72..]);
        if (length < 0 || pad < 0 || seq < 0 || ack < 0 || epoch < 0) return null;
        return new FrameHeader(type, (ChannelEnd)source[2], source[3], length, pad, new Guid(source[16..32]),
            BinaryPrimitives.ReadUInt64LittleEndian(source[32..]), BinaryPrimitives.ReadUInt64LittleEndian(source[40..]), seq, ack,
            (ChannelKind)source[64], epoch);
    }
}
