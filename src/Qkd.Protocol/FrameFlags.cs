namespace Qkd.Protocol;

/// <summary>Header byte 3. Bits not defined here must be zero; a frame with any other bit set is rejected.</summary>
[Flags]
public enum FrameFlags : byte
{
    None = 0,

    /// <summary>Device to host: the answer to the request with the same class, type and sequence number.</summary>
    Response = 1 << 0,

    /// <summary>With <see cref="Response"/>: the request failed; the payload is an error code and a text.</summary>
    Nack = 1 << 1,

    /// <summary>Device to host, unsolicited (status change, overflow, interlock); sequence = the device's event counter.</summary>
    Event = 1 << 2,

    /// <summary>Bulk data (symbols to a modulator, tags from a tagger); sequence = the stream's frame counter, from 0.</summary>
    Stream = 1 << 3,
}

public static class FrameFlagsRules
{
    public const FrameFlags Defined = FrameFlags.Response | FrameFlags.Nack | FrameFlags.Event | FrameFlags.Stream;

    /// <summary>
    /// The combinations that mean something: a request (none), a response, a nack response, an event, a stream frame.
    /// </summary>
    public static bool IsValid(FrameFlags flags) => flags switch
    {
        FrameFlags.None or FrameFlags.Response or (FrameFlags.Response | FrameFlags.Nack) or FrameFlags.Event or FrameFlags.Stream => true,
        _ => false,
    };
}
