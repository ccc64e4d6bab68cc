namespace Qkd.ClassicalChannel;

/// <summary>Why a classical channel stopped; the node decides from it what to do next.</summary>
public enum ChannelCloseReason
{
    /// <summary>Still open.</summary>
    None,
    /// <summary>The peer sent its end of session (Complete) and every message before it was delivered.</summary>
    PeerCompleted,
    /// <summary>
    /// The peer restarted and lost the session state (a different session id with data already exchanged): messages
    /// may be lost, so the node restarts the protocol at a block boundary with a new channel (a new session).
    /// </summary>
    SessionLost,
    /// <summary>No unused authentication pad left.</summary>
    PadExhausted,
    /// <summary>
    /// This end's pad state is older than the peer's (deleted or restored): the pad store is condemned and the node must
    /// stop (<see cref="AuthenticationPadStore.Stale"/> says what to do).
    /// </summary>
    PadStale,
    /// <summary>
    /// The peer completed the session (its End was delivered) and has since moved on to a new session: the normal end of
    /// a session whose last acknowledgements crossed the peer's next handshake.
    /// </summary>
    Finished,
    /// <summary>This end was disposed.</summary>
    Disposed,
    /// <summary>Reconnecting gave up (<see cref="TcpClassicalChannelOptions.GiveUpAfter"/>).</summary>
    Unreachable,
}
