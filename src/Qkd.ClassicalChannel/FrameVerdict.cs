namespace Qkd.ClassicalChannel;

/// <summary>
/// What the authentication layer made of a received frame, in the terms the session layer acts on. The reason
/// (<see cref="FrameRejection"/>) is counted by the authenticator; the session only needs to know whether the peer's
/// stream may have lost a frame, and in a handshake what an unauthenticated or old frame says about the two pad states.
/// </summary>
internal enum FrameVerdict
{
    /// <summary>The peer's, of this channel, untouched, and its pad index is above every one accepted so far.</summary>
    Authentic,
    /// <summary>
    /// Not a frame of the peer's stream on this channel: a copy of our own direction coming back (reflected, or forged
    /// in our name), or a frame of the node's other channel. Dropping it loses nothing.
    /// </summary>
    Foreign,
    /// <summary>
    /// The peer's and genuine, but its pad index is not above the last accepted: a replay, or a peer whose pad state
    /// is older than this end's (the handshake tells them apart by the position it carries). Never delivered.
    /// </summary>
    Replayed,
    /// <summary>A genuine <see cref="FrameType.Refused"/> notice of the peer's (checked with the pre-shared key and notice reserve).</summary>
    Notice,
    /// <summary>
    /// Claims to be the peer's but fails (forged, truncated, malformed, or naming key or pad this end does not hold):
    /// it may be a genuine frame that was damaged on the way, so the peer's stream may now have a gap.
    /// </summary>
    Damaged,
}
