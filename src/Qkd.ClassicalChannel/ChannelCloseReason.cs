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
    /// <summary>This end was disposed.</summary>
    Disposed,
    /// <summary>Reconnecting gave up (<see cref="TcpClassicalChannelOptions.GiveUpAfter"/>).</summary>
    Unreachable,
}
