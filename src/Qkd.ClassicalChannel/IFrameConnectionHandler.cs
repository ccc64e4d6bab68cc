namespace Qkd.ClassicalChannel;

/// <summary>
/// What the transport hands each connection to: the session layer (<see cref="ChannelSession"/>). The transport
/// decides when to connect, accept, time out and retry; the handler decides what is said on a connection.
/// </summary>
internal interface IFrameConnectionHandler
{
    /// <summary>
    /// The opening exchange on a fresh connection; true when the connection may now carry messages. The transport
    /// cancels <paramref name="deadline"/> when the handshake takes longer than
    /// <see cref="TcpClassicalChannelOptions.HandshakeTimeout"/>.
    /// </summary>
    ValueTask<bool> HandshakeAsync(FrameConnection connection, CancellationToken deadline);

    /// <summary>Carries messages on a handshaken connection until it ends; the transport then aborts it and, as connector, reconnects.</summary>
    Task ServeAsync(FrameConnection connection, CancellationToken stop);

    /// <summary>The connector went <see cref="TcpClassicalChannelOptions.GiveUpAfter"/> without a connection and stopped trying.</summary>
    void ConnectingAbandoned(string reason);

    /// <summary>A delay the connector must wait at least between attempts (null: its usual backoff).</summary>
    TimeSpan? RetryDelay { get; }
}
