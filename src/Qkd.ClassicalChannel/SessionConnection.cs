namespace Qkd.ClassicalChannel;

/// <summary>
/// One connection as the session layer sees it: the two nonces that name it in every frame header (a frame carrying
/// other nonces belongs to another connection: a replay), whether its handshake finished, and how far it has carried
/// the resend queue.
/// </summary>
internal sealed class SessionConnection(FrameConnection frames, ulong connectorNonce, ulong listenerNonce)
{
    public FrameConnection Frames { get; } = frames;

    /// <summary>Chosen by the connector in Hello; the listener learns it from there.</summary>
    public ulong ConnectorNonce { get; set; } = connectorNonce;

    /// <summary>Chosen by the listener in Welcome; the connector learns it from there.</summary>
    public ulong ListenerNonce { get; set; } = listenerNonce;

    /// <summary>The handshake finished and this is the session's current connection.</summary>
    public bool Established { get; set; }

    /// <summary>The last sequence number written on this connection (or that the peer already had when it resumed).</summary>
    public long LastWrittenSeq { get; set; }
}
