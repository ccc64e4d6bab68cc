namespace Qkd.Protocol;

/// <summary>The first two bytes of a nack payload (u16 little-endian); a UTF-8 text naming the detail follows.</summary>
public enum ErrorCode : ushort
{
    /// <summary>The device does not know this message type for its class.</summary>
    UnknownMessage = 0x0001,

    /// <summary>The payload has the wrong length or an invalid field.</summary>
    MalformedPayload = 0x0002,

    /// <summary>A parameter value or channel is outside its documented range; nothing was changed.</summary>
    OutOfRange = 0x0003,

    /// <summary>The frame was addressed to another device class.</summary>
    WrongDeviceClass = 0x0004,

    /// <summary>The request is not allowed in the current state (e.g. start while already streaming).</summary>
    InvalidState = 0x0005,

    /// <summary>The safety interlock is open: emission and detector bias are refused.</summary>
    InterlockOpen = 0x0006,

    /// <summary>The parameter exists but cannot be written.</summary>
    ReadOnlyParameter = 0x0007,

    /// <summary>The parameter id is unknown to this device class.</summary>
    UnknownParameter = 0x0008,

    /// <summary>A hardware fault prevented the operation (text says which).</summary>
    HardwareFault = 0x0009,

    /// <summary>The device is busy with another operation; retry later.</summary>
    Busy = 0x000A,
}
