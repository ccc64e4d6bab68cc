namespace Qkd.ClassicalChannel;

/// <summary>The authentication layer's verdict on one received frame body, with the header and payload when authentic.</summary>
internal readonly record struct FrameVerification(FrameVerdict Verdict, FrameHeader Header, ReadOnlyMemory<byte> Payload)
{
    public static FrameVerification Foreign { get; } = new(FrameVerdict.Foreign, default, default);

    public static FrameVerification Damaged { get; } = new(FrameVerdict.Damaged, default, default);

    public bool IsAuthentic => Verdict == FrameVerdict.Authentic;
}
