namespace Qkd.ClassicalChannel;

/// <summary>
/// The authentication layer's verdict on one received frame body, with the header when it could be parsed (even if the
/// tag failed: a handshake that fails at first contact is named from it) and the payload when authentic.
/// </summary>
/// <param name="BeyondMaterial">Damaged because the frame names a key epoch or pad chunk this end does not hold.</param>
internal readonly record struct FrameVerification(FrameVerdict Verdict, FrameHeader Header, ReadOnlyMemory<byte> Payload,
    bool HeaderKnown = false, bool BeyondMaterial = false)
{
    public static FrameVerification Foreign { get; } = new(FrameVerdict.Foreign, default, default);

    public static FrameVerification Damaged { get; } = new(FrameVerdict.Damaged, default, default);

    public bool IsAuthentic => Verdict == FrameVerdict.Authentic;
}
