using System.Net;

namespace Qkd.ClassicalChannel;

/// <summary>
/// Configuration of one end of the TCP classical channel. Exactly one of <see cref="ListenEndpoint"/> (this end
/// accepts; typically Bob) and <see cref="ConnectEndpoint"/> (this end connects and reconnects; typically Alice).
/// </summary>
public sealed record TcpClassicalChannelOptions
{
    /// <summary>Which end this is (fixes its direction and its half of the pad).</summary>
    public required ChannelEnd LocalEnd { get; init; }

    /// <summary>Listen here (port 0: any free port, see <see cref="TcpClassicalChannel.LocalEndpoint"/>).</summary>
    public IPEndPoint? ListenEndpoint { get; init; }

    /// <summary>Connect here (an <see cref="IPEndPoint"/> or a <see cref="DnsEndPoint"/>).</summary>
    public EndPoint? ConnectEndpoint { get; init; }

    /// <summary>First reconnect delay; doubles per failed attempt up to <see cref="MaxReconnectDelay"/>.</summary>
    public TimeSpan InitialReconnectDelay { get; init; } = TimeSpan.FromMilliseconds(50);
    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Stop with <see cref="ChannelCloseReason.Unreachable"/> after this long without a connection (null: never).</summary>
    public TimeSpan? GiveUpAfter { get; init; }

    /// <summary>A handshake (Hello, Welcome, Resume) must finish within this time.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A standalone acknowledgement goes out when received messages stay unacknowledged this long (acknowledgements ride
    /// on every outgoing frame, so ping-pong traffic needs none; each standalone one costs a tag's pad).
    /// </summary>
    public TimeSpan AckDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How long a frame whose pad is beyond this end's material waits for the node's replenishment.</summary>
    public TimeSpan PadMaterialWait { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>On dispose, how long to wait for the peer to acknowledge what was sent.</summary>
    public TimeSpan CloseLinger { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Largest message accepted (a longer length prefix is malformed: the connection is reset).</summary>
    public int MaxMessageBytes { get; init; } = 256 << 20;

    public void Validate()
    {
        if ((ListenEndpoint is null) == (ConnectEndpoint is null))
            throw new ArgumentException("A classical channel end either listens (ListenEndpoint) or connects (ConnectEndpoint), exactly one of the two.");
        if (!Enum.IsDefined(LocalEnd)) throw new ArgumentOutOfRangeException(nameof(LocalEnd), LocalEnd, "Alice or Bob.");
        if (InitialReconnectDelay <= TimeSpan.Zero || MaxReconnectDelay < InitialReconnectDelay)
            throw new ArgumentOutOfRangeException(nameof(InitialReconnectDelay), "Reconnect delays must be positive with the maximum at least the initial one.");
        if (HandshakeTimeout <= TimeSpan.Zero || AckDelay <= TimeSpan.Zero || PadMaterialWait < TimeSpan.Zero || CloseLinger < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(HandshakeTimeout), "Timeouts must be positive.");
        if (MaxMessageBytes <= 0 || MaxMessageBytes > int.MaxValue - FrameHeader.Overhead - 4)
            throw new ArgumentOutOfRangeException(nameof(MaxMessageBytes), MaxMessageBytes, "Message size limit out of range.");
    }
}
