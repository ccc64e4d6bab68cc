namespace Qkd.Protocol;

/// <summary>
/// What a frame decoder accepted and rejected. Every rejected frame is counted under exactly one reason; nothing is
/// dropped silently. Written by the decoding thread only; readers on other threads see values that may lag.
/// </summary>
public sealed class FrameDecoderCounters
{
    public long FramesAccepted;
    public long BytesReceived;

    /// <summary>Bytes thrown away while resynchronising (rejected frames and noise before a delimiter).</summary>
    public long BytesDiscarded;

    public long TooShort;
    public long TooLong;
    public long BadEncoding;
    public long CrcMismatch;
    public long UnsupportedVersion;
    public long UnknownDeviceClass;
    public long InvalidFlags;
    public long LengthMismatch;

    /// <summary>All rejected frames, whatever the reason.</summary>
    public long FramesRejected => TooShort + TooLong + BadEncoding + CrcMismatch + UnsupportedVersion + UnknownDeviceClass + InvalidFlags + LengthMismatch;

    internal void Count(FrameError error)
    {
        switch (error)
        {
            case FrameError.TooShort: TooShort++; break;
            case FrameError.TooLong: TooLong++; break;
            case FrameError.BadEncoding: BadEncoding++; break;
            case FrameError.CrcMismatch: CrcMismatch++; break;
            case FrameError.UnsupportedVersion: UnsupportedVersion++; break;
            case FrameError.UnknownDeviceClass: UnknownDeviceClass++; break;
            case FrameError.InvalidFlags: InvalidFlags++; break;
            case FrameError.LengthMismatch: LengthMismatch++; break;
        }
    }

    public IReadOnlyDictionary<string, long> ToDictionary() => new Dictionary<string, long>
    {
        ["framesAccepted"] = Volatile.Read(ref FramesAccepted),
        ["framesRejected"] = FramesRejected,
        ["bytesReceived"] = Volatile.Read(ref BytesReceived),
        ["bytesDiscarded"] = Volatile.Read(ref BytesDiscarded),
        ["tooShort"] = TooShort,
        ["tooLong"] = TooLong,
        ["badEncoding"] = BadEncoding,
        ["crcMismatch"] = CrcMismatch,
        ["unsupportedVersion"] = UnsupportedVersion,
        ["unknownDeviceClass"] = UnknownDeviceClass,
        ["invalidFlags"] = InvalidFlags,
        ["lengthMismatch"] = LengthMismatch,
    };
}
