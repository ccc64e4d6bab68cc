using System.Buffers.Binary;

namespace Qkd.Protocol.Transport;

/// <summary>
/// USB-style transfers carried over a byte stream: each <see cref="Write"/> becomes one length-prefixed packet and each
/// <see cref="Read"/> returns exactly one, so the frames inside use <see cref="FramingKind.Packet"/> framing (raw frames
/// back to back, no COBS) as on USB bulk. This is how in-process emulated devices are reached: the protocol's packet
/// path (the one USB uses) runs at memory speed, while COBS, which costs a step per zero byte and tag records are full
/// of zeros, stays for the serial lines that need it.
/// </summary>
/// <remarks>The length prefix (u32 little-endian) belongs to this carrier, not to the wire protocol.</remarks>
public sealed class PacketStreamTransport : IFrameTransport
{
    /// <summary>Largest transfer, as on USB: one maximum frame.</summary>
    public const int MaxTransferLength = 65_536;

    private readonly IFrameTransport _stream;
    private readonly byte[] _received = new byte[4 * (MaxTransferLength + 4)];
    private readonly byte[] _outgoing = new byte[MaxTransferLength + 4];
    private int _start;
    private int _end;

    /// <param name="byteStream">The byte stream carrying the packets (owned: disposed with this transport).</param>
    public PacketStreamTransport(IFrameTransport byteStream)
    {
        ArgumentNullException.ThrowIfNull(byteStream);
        if (byteStream.Framing != FramingKind.ByteStream)
            throw new ArgumentException("Packets are carried over a byte stream.", nameof(byteStream));
        _stream = byteStream;
    }

    public string Description => _stream.Description;

    public FramingKind Framing => FramingKind.Packet;

    public int MaxWriteLength => MaxTransferLength;

    public void Write(ReadOnlySpan<byte> data)
    {
        if (data.Length > MaxTransferLength)
            throw new ArgumentException($"A transfer holds at most {MaxTransferLength} bytes; {data.Length} given.", nameof(data));
        BinaryPrimitives.WriteUInt32LittleEndian(_outgoing, (uint)data.Length);
        data.CopyTo(_outgoing.AsSpan(4));
        _stream.Write(_outgoing.AsSpan(0, 4 + data.Length));
    }

    public int Read(Span<byte> buffer)
    {
        while (true)
        {
            int available = _end - _start;
            if (available >= 4)
            {
                int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(_received.AsSpan(_start));
                if ((uint)length > MaxTransferLength)
                    throw new DeviceDisconnectedException(Description, "read", new InvalidDataException($"packet length {length} exceeds {MaxTransferLength}: the carrier lost its place"));
                if (available >= 4 + length)
                {
                    if (buffer.Length < length)
                        throw new ArgumentException($"The buffer holds {buffer.Length} bytes; the transfer has {length}.", nameof(buffer));
                    _received.AsSpan(_start + 4, length).CopyTo(buffer);
                    _start += 4 + length;
                    return length;
                }
            }
            if (_start > 0 && _received.Length - _end < MaxTransferLength + 4)
            {
                _received.AsSpan(_start, available).CopyTo(_received);
                _start = 0;
                _end = available;
            }
            int n = _stream.Read(_received.AsSpan(_end));
            if (n == 0) return 0;
            _end += n;
        }
    }

    public void Dispose() => _stream.Dispose();
}
