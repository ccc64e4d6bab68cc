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

    /// <summary>Which of the node's channels this is (written under every tag; picks the channel's pad lanes).</summary>
    public ChannelKind Channel { get; init; } = ChannelKind.Session;

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

    /// <summary>
    /// Connections accepted but not yet authenticated (in their handshake) at once; beyond it a new connection is closed
    /// at once and counted, so idle or hostile connections cannot pile up.
    /// </summary>
    public int MaxUnauthenticatedConnections { get; init; } = 4;

    /// <summary>After the first handshake showed the pre-shared secrets differ, the connector retries only this often.</summary>
    public TimeSpan SecretMismatchRetryDelay { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>A refusal notice (which spends pre-shared reserve) goes out at most this often per channel.</summary>
    public TimeSpan NoticeInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The largest payload of one frame: longer messages travel as several frames, each authenticated on its own, so a
    /// receiver never holds more than this (plus header and tag) of anything it has not authenticated.
    /// </summary>
    public const int MaxFragmentBytes = 64 << 10;

    /// <summary>The largest frame body: header, a fragment (or a handshake's pad position) and the tag.</summary>
    public const int MaxFrameBodyBytes = FrameHeader.Overhead + (MaxFragmentBytes > PadPosition.MaxBytes + 1 ? MaxFragmentBytes : PadPosition.MaxBytes + 1);

    /// <summary>On dispose, how long to wait for the peer to acknowledge what was sent.</summary>
    public TimeSpan CloseLinger { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Largest message (the sum of its fragments; a longer one is refused on sending and malformed on receiving).</summary>
    public int MaxMessageBytes { get; init; } = 256 << 20;

    public void Validate()
    {
        if ((ListenEndpoint is null) == (ConnectEndpoint is null))
            throw new ArgumentException("A classical channel end either listens (ListenEndpoint) or connects (ConnectEndpoint), exactly one of the two.");
        if (!Enum.IsDefined(LocalEnd)) throw new ArgumentOutOfRangeException(nameof(LocalEnd), LocalEnd, "Alice or Bob.");
        if (InitialReconnectDelay <= TimeSpan.Zero || MaxReconnectDelay < InitialReconnectDelay)
            throw new ArgumentOutOfRangeException(nameof(InitialReconnectDelay), "Reconnect delays must be positive with the maximum at least the initial one.");
        if (!Enum.IsDefined(Channel)) throw new ArgumentOutOfRangeException(nameof(Channel), Channel, "Session or KmeLink.");
        if (MaxUnauthenticatedConnections < 1) throw new ArgumentOutOfRangeException(nameof(MaxUnauthenticatedConnections), MaxUnauthenticatedConnections, "At least one connection must be able to authenticate.");
        if (HandshakeTimeout <= TimeSpan.Zero || AckDelay <= TimeSpan.Zero || CloseLinger < TimeSpan.Zero || SecretMismatchRetryDelay <= TimeSpan.Zero || NoticeInterval < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(HandshakeTimeout), "Timeouts must be positive.");
        if (MaxMessageBytes <= 0 || MaxMessageBytes > int.MaxValue - FrameHeader.Overhead - 4)
            throw new ArgumentOutOfRangeException(nameof(MaxMessageBytes), MaxMessageBytes, "Message size limit out of range.");
    }
}
