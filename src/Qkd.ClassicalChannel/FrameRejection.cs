namespace Qkd.ClassicalChannel;

/// <summary>Why a received frame was rejected (never delivered to the distiller).</summary>
public enum FrameRejection
{
    /// <summary>The tag does not verify (a modified or invented frame), or its pad does not exist.</summary>
    Forged,
    /// <summary>A genuine frame seen before: its pad index is not above the last accepted, or it belongs to an earlier session or connection.</summary>
    Replayed,
    /// <summary>A genuine frame out of order: its sequence number is beyond the next expected one.</summary>
    Reordered,
    /// <summary>The frame is shorter than its header says, or the connection ended inside it.</summary>
    Truncated,
    /// <summary>A genuine frame of this end's own direction sent back to it.</summary>
    Reflected,
    /// <summary>Unparseable: wrong version, impossible field, over-long length prefix.</summary>
    Malformed,
    /// <summary>A genuine frame of this node's other channel (the session channel's on the KME link or the reverse).</summary>
    CrossChannel,
    /// <summary>A handshake whose pad position shows the peer's pad state is older than this end's (deleted or restored): refused and told.</summary>
    StalePeer,
}
