using System.Buffers.Binary;
using System.IO.Hashing;

namespace Qkd.Protocol;

/// <summary>
/// Encodes and checks raw frames (header + payload + CRC-32C), before any byte-stream encoding. Checks run cheapest
/// first and the CRC before anything from the header is trusted, so a corrupted frame is rejected for the right reason.
/// </summary>
public static class FrameCodec
{
    /// <summary>CRC-32C (Castagnoli): the same polynomial iSCSI, ext4 and SCTP use, hardware-accelerated on x64 and arm64.</summary>
    public static uint Crc(ReadOnlySpan<byte> data) => Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, data);

    /// <summary>The raw frame length for a payload of <paramref name="payloadLength"/> bytes.</summary>
    public static int FrameLength(int payloadLength) => payloadLength + ProtocolConstants.Overhead;

    /// <summary>
    /// Writes header, payload and CRC into <paramref name="destination"/> and returns the frame length. The header's
    /// <see cref="FrameHeader.PayloadLength"/> is taken from <paramref name="payload"/>.
    /// </summary>
    public static int Encode(FrameHeader header, ReadOnlySpan<byte> payload, Span<byte> destination)
    {
        int length = FrameLength(payload.Length);
        if (destination.Length < length)
            throw new ArgumentException($"The destination holds {destination.Length} bytes; the frame needs {length}.", nameof(destination));
        (header with { PayloadLength = payload.Length }).WriteTo(destination);
        payload.CopyTo(destination[ProtocolConstants.HeaderLength..]);
        Seal(destination[..length]);
        return length;
    }

    /// <summary>
    /// Computes and writes the CRC of a frame whose header and payload are already in place (the payload was written
    /// straight into the frame buffer, e.g. tag records, to save a copy).
    /// </summary>
    public static void Seal(Span<byte> frame)
    {
        int body = frame.Length - ProtocolConstants.CrcLength;
        BinaryPrimitives.WriteUInt32LittleEndian(frame[body..], Crc(frame[..body]));
    }

    /// <summary>Checks a raw frame; on success returns its header and payload (a slice of <paramref name="frame"/>).</summary>
    public static FrameError TryDecode(ReadOnlySpan<byte> frame, out FrameHeader header, out ReadOnlySpan<byte> payload)
    {
        header = default;
        payload = default;
        if (frame.Length < ProtocolConstants.Overhead) return FrameError.TooShort;
        if (frame.Length > ProtocolConstants.MaxFrameLength) return FrameError.TooLong;
        int body = frame.Length - ProtocolConstants.CrcLength;
        if (BinaryPrimitives.ReadUInt32LittleEndian(frame[body..]) != Crc(frame[..body])) return FrameError.CrcMismatch;
        if (frame[0] != ProtocolConstants.Version) return FrameError.UnsupportedVersion;
        if (!DeviceClasses.IsDefined(frame[1])) return FrameError.UnknownDeviceClass;
        var flags = (FrameFlags)frame[3];
        if (!FrameFlagsRules.IsValid(flags)) return FrameError.InvalidFlags;
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(frame[8..]);
        if (length != (uint)(body - ProtocolConstants.HeaderLength)) return FrameError.LengthMismatch;
        header = new FrameHeader((DeviceClass)frame[1], (MessageType)frame[2], flags,
            BinaryPrimitives.ReadUInt32LittleEndian(frame[4..]), (int)length);
        payload = frame.Slice(ProtocolConstants.HeaderLength, (int)length);
        return FrameError.None;
    }

    /// <summary>
    /// For packet transports: the length of the frame starting at <paramref name="data"/> according to its header, or
    /// -1 when the header is incomplete or its length field is impossible.
    /// </summary>
    public static int DeclaredFrameLength(ReadOnlySpan<byte> data)
    {
        if (data.Length < ProtocolConstants.HeaderLength) return -1;
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(data[8..]);
        return length > ProtocolConstants.MaxPayloadLength ? -1 : FrameLength((int)length);
    }
}
