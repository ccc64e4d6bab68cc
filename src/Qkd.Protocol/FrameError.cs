namespace Qkd.Protocol;

/// <summary>Why a received frame was rejected; each reason has its own counter in <see cref="FrameDecoderCounters"/>.</summary>
public enum FrameError
{
    None = 0,

    /// <summary>Fewer bytes than a header and a CRC.</summary>
    TooShort,

    /// <summary>More bytes than the largest frame, or a byte-stream frame that grew past it before its delimiter.</summary>
    TooLong,

    /// <summary>The byte-stream frame is not valid COBS.</summary>
    BadEncoding,

    /// <summary>The CRC-32C over header and payload does not match the trailer.</summary>
    CrcMismatch,

    /// <summary>The version byte is not <see cref="ProtocolConstants.Version"/>.</summary>
    UnsupportedVersion,

    /// <summary>The device class byte is not a defined class.</summary>
    UnknownDeviceClass,

    /// <summary>Undefined flag bits are set, or the combination means nothing (e.g. an event that is a response).</summary>
    InvalidFlags,

    /// <summary>The length field disagrees with the bytes received.</summary>
    LengthMismatch,
}
