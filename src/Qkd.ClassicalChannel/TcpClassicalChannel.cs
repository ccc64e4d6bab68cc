using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Qkd.Core.Channel;

namespace Qkd.ClassicalChannel;

/// <summary>
/// One end of the classical channel between two nodes over TCP: whole messages, in order, exactly once, every frame
/// authenticated with a Wegman-Carter tag. It composes three layers (see README.md):
/// <list type="bullet">
/// <item><see cref="TcpFrameTransport"/>: connects, accepts and reconnects; reads and writes whole frames.</item>
/// <item><see cref="ChannelSession"/>: sequence numbers, acknowledgements, handshake and resume after a reconnect, close reasons.</item>
/// <item><see cref="WegmanCarterAuthenticator"/>: seals and verifies every frame with a one-time-padded polynomial hash,
/// counts rejections.</item>
/// </list>
/// </summary>
public sealed class TcpClassicalChannel : IClassicalChannel, IAsyncDisposable
{
    private readonly TcpClassicalChannelOptions _options;
    private readonly WegmanCarterAuthenticator _authenticator;
    private readonly TcpFrameTransport _transport;
    private readonly ChannelSession _session;
    private int _disposed;

    /// <summary>
    /// Starts one end: a listener binds at once (so <see cref="LocalEndpoint"/> is known and a busy port fails here),
    /// a connector starts connecting in the background. The pad store is the caller's (it outlives channels: a new
    /// session after <see cref="ChannelCloseReason.SessionLost"/> uses the same store).
    /// </summary>
    public TcpClassicalChannel(TcpClassicalChannelOptions options, AuthenticationPadStore pad, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(pad);
        options.Validate();
        if (pad.LocalEnd != options.LocalEnd)
            throw new ArgumentException($"The pad store is {pad.LocalEnd}'s but the channel end is {options.LocalEnd}.", nameof(pad));
        _options = options;
        var log = logger ?? NullLogger.Instance;
        Security = new ChannelSecurityCounters(pad);
        _authenticator = new WegmanCarterAuthenticator(pad, options.Channel, Security);
        _transport = new TcpFrameTransport(options, Security, log);
        _session = new ChannelSession(options, _authenticator, Security, log);
        _transport.Start(_session, _session.Stopping);
    }

    public ChannelStatistics Statistics { get; } = new();

    /// <summary>Tags, rejections per reason, reconnects, resends, pad accounting.</summary>
    public ChannelSecurityCounters Security { get; }

    /// <summary>The listening endpoint (listener only).</summary>
    public IPEndPoint? LocalEndpoint => _transport.LocalEndpoint;

    /// <summary>The current session id (empty before the first handshake).</summary>
    public Guid SessionId => _session.Id;

    /// <summary>True while a handshaken connection is up.</summary>
    public bool IsConnected => _session.IsConnected;

    public ChannelCloseReason CloseReason => _session.CloseReason;

    /// <summary>Cancelled once the peer will send nothing more: its End arrived or the session stopped (any <see cref="CloseReason"/> but None).</summary>
    public CancellationToken Closed => _session.PeerGone;

    /// <summary>Which of the node's channels this is.</summary>
    public ChannelKind Channel => _options.Channel;

    /// <summary>True once a first handshake showed that the two ends' pre-shared secrets differ (logged once, then retried slowly).</summary>
    public bool SecretMismatch => _session.SecretMismatch;

    /// <summary>Messages sent but not yet acknowledged by the peer.</summary>
    public int UnacknowledgedMessages => _session.UnacknowledgedMessages;

    public async ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        if (message.Length > _options.MaxMessageBytes)
            throw new ArgumentOutOfRangeException(nameof(message), message.Length, $"A classical message may have at most {_options.MaxMessageBytes} bytes.");
        _session.Enqueue(message);
        Statistics.CountSent(message.Length);
        await _session.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<ReadOnlyMemory<byte>> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        var message = await _session.ReceiveAsync(cancellationToken).ConfigureAwait(false);
        Statistics.CountReceived(message.Length);
        return message;
    }

    public void Complete() => _session.Complete();

    /// <summary>Waits (up to <see cref="TcpClassicalChannelOptions.CloseLinger"/>) for the peer to acknowledge what was sent, then closes.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _session.WaitForAcknowledgementsAsync(_options.CloseLinger).ConfigureAwait(false);
        await _session.DisposeAsync().ConfigureAwait(false);
        await _transport.DisposeAsync().ConfigureAwait(false);
    }
}
