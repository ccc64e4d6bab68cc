namespace Qkd.ClassicalChannel;

/// <summary>
/// What the authentication layer made of a received frame, in the terms the session layer acts on. The reason
/// (<see cref="FrameRejection"/>) is counted by the authenticator; the session only needs to know whether the peer's
/// stream may have lost a frame.
/// </summary>
internal enum FrameVerdict
{
    /// <summary>The peer's, untouched, and its pad index is above every one accepted so far.</summary>
    Authentic,
    /// <summary>
    /// Not a frame of the peer's stream as it stands: a copy of our own direction coming back (reflected, or forged in
    /// our name) or a peer frame whose pad index was already accepted (replayed). Dropping it loses nothing.
    /// </summary>
    Foreign,
    /// <summary>
    /// Claims to be the peer's but fails (forged, truncated, malformed): it may be a genuine frame that was damaged on
    /// the way, so the peer's stream may now have a gap.
    /// </summary>
    Damaged,
}
