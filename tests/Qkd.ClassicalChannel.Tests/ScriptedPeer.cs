using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;

namespace Qkd.ClassicalChannel.Tests;

/// <summary>
/// The far end of one connection of a <see cref="ChannelSession"/> under test, played by the test frame by frame: it
/// seals and verifies with the peer's own authenticator (so what it reads was checked exactly as a real peer would)
/// and names the connection with the nonces the test gives it.
/// </summary>
internal sealed class ScriptedPeer
{
    private readonly WegmanCarterAuthenticator _authenticator;
    private readonly Socket _socket;
    private readonly FrameConnection _frames;

    public ScriptedPeer(WegmanCarterAuthenticator authenticator, ChannelEnd end, Socket socket, ChannelSecurityCounters security)
    {
        _authenticator = authenticator;
        _socket = socket;
        _frames = new FrameConnection(socket, 1 << 20, end, security, NullLogger.Instance);
    }

    public Guid SessionId { get; set; }
    public ulong ConnectorNonce { get; set; }
    public ulong ListenerNonce { get; set; }

    /// <summary>The next frame from the session; it must be authentic (it is then accepted, as the peer's session would).</summary>
    public async Task<FrameVerification> ReadAsync(CancellationToken cancellationToken)
    {
        var body = await _frames.ReadFrameAsync(cancellationToken);
        Assert.NotNull(body);
        var frame = _authenticator.Verify(body);
        Assert.Equal(FrameVerdict.Authentic, frame.Verdict);
        Assert.True(_authenticator.Accept(frame.Header));
        return frame;
    }

    /// <summary>Sends a frame naming this peer's session and connection unless the test overrides them.</summary>
    public async Task SendAsync(FrameType type, long sequence, long acknowledged, byte[]? payload = null, byte flags = 0,
        Guid? session = null, ulong? connectorNonce = null, ulong? listenerNonce = null)
    {
        // Handshake frames carry the sender's pad position, as a real peer's do.
        payload ??= type is FrameType.Hello or FrameType.Welcome or FrameType.Resume ? _authenticator.Pad.Position(_authenticator.Channel).ToBytes() : [];
        var frame = FrameConnection.NewFrame(FrameHeader.Overhead + payload.Length);
        var header = new FrameHeader(type, default, flags, payload.Length, 0, session ?? SessionId, connectorNonce ?? ConnectorNonce,
            listenerNonce ?? ListenerNonce, sequence, acknowledged);
        _authenticator.Seal(header, payload, frame.AsSpan(FrameConnection.LengthPrefixBytes));
        Assert.True(await _frames.WriteFrameAsync(frame, CancellationToken.None));
    }

    /// <summary>Ends the connection cleanly between frames (the session reads end of stream).</summary>
    public void HangUp()
    {
        _socket.Shutdown(SocketShutdown.Send);
    }

    public void Abort() => _frames.Abort();
}
