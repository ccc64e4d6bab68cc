using System.Buffers.Binary;

namespace Qkd.Protocol;

/// <summary>The 12-byte header in front of every frame (firmware-protocols/framing.md, "Frame").</summary>
public readonly record struct FrameHeader(DeviceClass DeviceClass, MessageType Type, FrameFlags Flags, uint Sequence, int PayloadLength)
{
    public byte Version => ProtocolConstants.Version;

    public bool IsResponse => (Flags & FrameFlags.Response) != 0;

    public bool IsNack => (Flags & FrameFlags.Nack) != 0;

    public bool IsEvent => (Flags & FrameFlags.Event) != 0;

    public bool IsStream => (Flags & FrameFlags.Stream) != 0;

    public bool IsRequest => Flags == FrameFlags.None;

    /// <summary>Writes the header into the first 12 bytes of <paramref name="destination"/>.</summary>
    public void WriteTo(Span<byte> destination)
    {
        if ((uint)PayloadLength > ProtocolConstants.MaxPayloadLength)
            throw new ArgumentOutOfRangeException(nameof(PayloadLength), PayloadLength, $"A payload holds at most {ProtocolConstants.MaxPayloadLength} bytes.");
        destination[0] = ProtocolConstants.Version;
        destination[1] = (byte)DeviceClass;
        destination[2] = (byte)Type;
        destination[3] = (byte)Flags;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], Sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], (uint)PayloadLength);
    }

    public override string ToString() =>
        $"{DeviceClass.Describe()} {Type} (0x{(byte)Type:X2}) [{Flags}] seq {Sequence}, {PayloadLength} payload bytes";
}
