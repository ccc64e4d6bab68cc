namespace Qkd.Protocol;

/// <summary>Sizes and limits of the v1 wire protocol (firmware-protocols/framing.md).</summary>
public static class ProtocolConstants
{
    /// <summary>The protocol version this code speaks; a frame with another version is rejected.</summary>
    public const byte Version = 1;

    /// <summary>version, class, type, flags (1 byte each), sequence (u32), payload length (u32).</summary>
    public const int HeaderLength = 12;

    /// <summary>CRC-32C trailer.</summary>
    public const int CrcLength = 4;

    /// <summary>Header plus trailer.</summary>
    public const int Overhead = HeaderLength + CrcLength;

    /// <summary>Largest payload: a whole frame then fits one 64 KiB USB bulk transfer.</summary>
    public const int MaxPayloadLength = 65_520;

    /// <summary>Largest frame on the wire before byte-stream encoding.</summary>
    public const int MaxFrameLength = MaxPayloadLength + Overhead;

    /// <summary>Largest COBS-encoded frame, delimiter excluded: one overhead byte per 254 data bytes, plus one.</summary>
    public const int MaxEncodedFrameLength = MaxFrameLength + MaxFrameLength / 254 + 1;

    /// <summary>The byte-stream frame delimiter; COBS guarantees it never occurs inside an encoded frame.</summary>
    public const byte Delimiter = 0x00;
}
