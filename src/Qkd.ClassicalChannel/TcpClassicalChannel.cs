using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Qkd.Core.Channel;

namespace Qkd.ClassicalChannel;

/// <summary>
/// One end of the classical channel between two nodes over TCP: whole messages, in order, exactly once, every frame
/// authenticated with a Wegman-Carter tag (<see cref="Gf128PolynomialHash"/> XOR a one-time pad from the
/// <see cref="AuthenticationPadStore"/>).
/// <para>
/// Session layer. Every message has a sequence number; every frame carries the last sequence received in order
/// (acknowledgement); unacknowledged messages are kept. A connection starts with Hello (connector: session id, fresh
/// connector nonce) / Welcome (listener: session id, both nonces, its last received sequence) / Resume (connector: both
/// nonces, its last received sequence); then each side resends what the other lacks, so the distillers see an unbroken
/// ordered stream across reconnects. Every later frame carries the session id and both nonces: a frame from another
/// session or an earlier connection is a replay. A peer that restarted and lost its session (a different session id
/// while data was already exchanged) ends this channel with <see cref="ChannelCloseReason.SessionLost"/>: the node
/// starts a new channel (a new session) and restarts the protocol at a block boundary.
/// </para>
/// <para>
/// Receiving. A frame is delivered only if it parses, its tag verifies with the sender's pad at the index in its
/// header, that index is above the last accepted one (replay), its direction is the peer's (reflection), its session
/// and nonces are the current ones, and its sequence is the next expected (reordering). Rejected frames are counted
/// per reason and change nothing: the accepted pad index and the expected sequence only move on acceptance, so the next
/// genuine frame is still accepted. The receiver does not have to predict pad indices (the sender names its index and
/// the tag binds it), so a rejection can never put the two ends out of step. After a rejection that may have cost a
/// genuine frame (forged, truncated, malformed, reordered) the receiver resets the connection; the reconnect's resume
/// then resends whatever was lost. A replayed or reflected copy is just dropped. Pad bits are never spent by a
/// receiver: each tag pad is spent once, by its sender, and a resent message gets a new frame and a new pad.
/// </para>
/// </summary>
public sealed class TcpClassicalChannel : IClassicalChannel, IAsyncDisposable
{
    private readonly TcpClassicalChannelOptions _options;
    private readonly AuthenticationPadStore _pad;
    private readonly ILogger _logger;
    private readonly byte[] _hashKey;
    private readonly ChannelEnd _local;
    private readonly ChannelEnd _peer;
    private readonly TcpListener? _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly object _gate = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly SemaphoreSlim _ackSignal = new(0);
    private readonly Channel<ReadOnlyMemory<byte>> _inbox = System.Threading.Channels.Channel.CreateUnbounded<ReadOnlyMemory<byte>>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });
    private readonly List<Outgoing> _unacked = [];
    private readonly Task _run;
    private readonly Task _ackLoop;

    // Session state, under _gate.
    private Guid _session;
    private long _nextSeq = 1;
    private long _lastReceived;
    private long _highestWritten;
    private long _ackSent;
    private long _watermark = -1;
    private bool _endQueued;
    private bool _everConnected;
    private Connection? _current;
    private ChannelCloseReason _closeReason;
    private string? _closeMessage;
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
        _pad = pad;
        _logger = logger ?? NullLogger.Instance;
        _local = options.LocalEnd;
        _peer = _local == ChannelEnd.Alice ? ChannelEnd.Bob : ChannelEnd.Alice;
        _hashKey = pad.CopyHashKey();
        Security = new ChannelSecurityCounters(pad);
        if (options.ListenEndpoint is { } listen)
        {
            _listener = new TcpListener(listen);
            _listener.Start();
            LocalEndpoint = (IPEndPoint)_listener.LocalEndpoint;
            _run = Task.Run(() => AcceptLoopAsync(_stop.Token));
        }
        else
            _run = Task.Run(() => ConnectLoopAsync(_stop.Token));
        _ackLoop = Task.Run(() => AckLoopAsync(_stop.Token));
    }

    public ChannelStatistics Statistics { get; } = new();

    /// <summary>Tags, rejections per reason, reconnects, resends, pad accounting.</summary>
    public ChannelSecurityCounters Security { get; }

    /// <summary>The listening endpoint (listener only).</summary>
    public IPEndPoint? LocalEndpoint { get; }

    /// <summary>The current session id (empty before the first handshake).</summary>
    public Guid SessionId
    {
        get { lock (_gate) return _session; }
    }

    /// <summary>True while a handshaken connection is up.</summary>
    public bool IsConnected
    {
        get { lock (_gate) return _current is { Established: true }; }
    }

    public ChannelCloseReason CloseReason
    {
        get { lock (_gate) return _closeReason; }
    }

    /// <summary>Messages sent but not yet acknowledged by the peer.</summary>
    public int UnacknowledgedMessages
    {
        get { lock (_gate) return _unacked.Count; }
    }

    public async ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        if (message.Length > _options.MaxMessageBytes)
            throw new ArgumentOutOfRangeException(nameof(message), message.Length, $"A classical message may have at most {_options.MaxMessageBytes} bytes.");
        lock (_gate)
        {
            ThrowIfStopped();
            if (_endQueued) throw new InvalidOperationException($"Classical channel ({_local} end): Complete() was called; no message may follow.");
            _unacked.Add(new Outgoing(_nextSeq++, FrameType.Data, message.ToArray()));
        }
        Statistics.CountSent(message.Length);
        await FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<ReadOnlyMemory<byte>> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            var message = await _inbox.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            Statistics.CountReceived(message.Length);
            return message;
        }
        catch (ChannelClosedException e)
        {
            throw new ClassicalChannelClosedException(e.InnerException is ClassicalChannelClosedException inner
                ? inner.Message
                : $"Classical channel ({_local} end): the peer completed the session.");
        }
    }

    public void Complete()
    {
        lock (_gate)
        {
            if (_endQueued || IsStopped) return;
            _endQueued = true;
            _unacked.Add(new Outgoing(_nextSeq++, FrameType.End, []));
        }
        _ = FlushInBackgroundAsync();
    }

    /// <summary>Waits (up to <see cref="TcpClassicalChannelOptions.CloseLinger"/>) for the peer to acknowledge what was sent, then closes.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        var deadline = DateTime.UtcNow + _options.CloseLinger;
        while (DateTime.UtcNow < deadline)
        {
            lock (_gate)
            {
                if (_unacked.Count == 0 || IsStopped) break;
            }
            await Task.Delay(10).ConfigureAwait(false);
        }
        Stop(ChannelCloseReason.Disposed, $"Classical channel ({_local} end) was closed locally.");
        try { await Task.WhenAll(_run, _ackLoop).ConfigureAwait(false); }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException) { }
        CryptographicOperations.ZeroMemory(_hashKey);
    }

    // ---- sending ----

    private bool IsStopped => _closeReason is not (ChannelCloseReason.None or ChannelCloseReason.PeerCompleted);

    private void ThrowIfStopped()
    {
        if (IsStopped) throw new ClassicalChannelClosedException(_closeMessage ?? $"Classical channel ({_local} end) is closed.");
    }

    /// <summary>Writes, in sequence order, every queued message the current connection has not carried yet.</summary>
    private async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (true)
            {
                Connection? c;
                Outgoing next;
                lock (_gate)
                {
                    c = _current;
                    if (c is not { Established: true } || IsStopped) return;
                    int i = _unacked.Count == 0 ? 0 : (int)Math.Max(0, c.LastWrittenSeq + 1 - _unacked[0].Sequence);
                    if (i >= _unacked.Count) return;
                    next = _unacked[i];
                }
                byte[] frame = BuildFrame(c, next.Type, next.Sequence, next.Payload);
                if (!await WriteAsync(c, frame).ConfigureAwait(false)) return;
                c.LastWrittenSeq = next.Sequence;
                lock (_gate)
                {
                    if (next.Sequence <= _highestWritten) Security.CountResent();
                    else _highestWritten = next.Sequence;
                }
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task FlushInBackgroundAsync()
    {
        try { await FlushAsync(_stop.Token).ConfigureAwait(false); }
        catch (Exception e) when (e is OperationCanceledException or AuthenticationPadExhaustedException or ObjectDisposedException)
        {
            _logger.LogDebug("Classical channel ({End}): background flush ended: {Error}", _local, e.Message);
        }
    }

    /// <summary>Sends a control frame (handshake or acknowledgement) at once, under the write lock.</summary>
    private async ValueTask<bool> SendControlAsync(Connection c, FrameType type)
    {
        await _writeLock.WaitAsync(_stop.Token).ConfigureAwait(false);
        try
        {
            return await WriteAsync(c, BuildFrame(c, type, 0, ReadOnlyMemory<byte>.Empty)).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// A whole frame with its tag; takes the next pad index (durably reserved first). Called under the write lock, so
    /// pad indices go out on the wire in increasing order.
    /// </summary>
    private byte[] BuildFrame(Connection c, FrameType type, long sequence, ReadOnlyMemory<byte> payload)
    {
        long ack;
        byte flags;
        Guid session;
        lock (_gate)
        {
            ack = _lastReceived;
            flags = HasData ? FrameHeader.HasDataFlag : (byte)0;
            session = _session;
        }
        long index;
        try
        {
            index = _pad.TakeSendIndex();
        }
        catch (AuthenticationPadExhaustedException e)
        {
            Stop(ChannelCloseReason.PadExhausted, $"Classical channel ({_local} end) stopped: {e.Message}");
            throw;
        }
        var frame = new byte[4 + FrameHeader.Overhead + payload.Length];
        BinaryPrimitives.WriteInt32LittleEndian(frame, frame.Length - 4);
        var body = frame.AsSpan(4);
        new FrameHeader(type, _local, flags, payload.Length, index, session, c.ConnectorNonce, c.ListenerNonce, sequence, ack).Write(body);
        payload.Span.CopyTo(body[FrameHeader.Size..]);
        Span<byte> pad = stackalloc byte[Gf128PolynomialHash.TagBytes];
        try
        {
            if (!_pad.TryReadPad(_local, index, pad))
                throw new InvalidOperationException($"Pad index {index} was handed out but cannot be read.");
            int authenticated = FrameHeader.Size + payload.Length;
            Gf128PolynomialHash.ComputeTag(_hashKey, body[..authenticated], pad, body.Slice(authenticated, Gf128PolynomialHash.TagBytes));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pad);
        }
        Security.CountTagCreated();
        lock (_gate) _ackSent = Math.Max(_ackSent, ack);
        return frame;
    }

    private async ValueTask<bool> WriteAsync(Connection c, byte[] frame)
    {
        try
        {
            // Not the caller's token: a write cancelled half way would leave a partial frame on the stream.
            await c.Stream.WriteAsync(frame, _stop.Token).ConfigureAwait(false);
            Security.CountWireSent(frame.Length);
            return true;
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            _logger.LogDebug("Classical channel ({End}): write failed, connection dropped: {Error}", _local, e.Message);
            c.Abort();
            return false;
        }
    }

    private async Task AckLoopAsync(CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await _ackSignal.WaitAsync(stop).ConfigureAwait(false);
                await Task.Delay(_options.AckDelay, stop).ConfigureAwait(false);
                while (_ackSignal.CurrentCount > 0) _ackSignal.Wait(0);
                Connection? c;
                lock (_gate)
                {
                    c = _current;
                    if (c is not { Established: true } || _lastReceived <= _ackSent || IsStopped) continue;
                }
                await SendControlAsync(c, FrameType.Ack).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) { }
        catch (AuthenticationPadExhaustedException) { }
        catch (ObjectDisposedException) { }
    }

    // ---- connections ----

    private async Task ConnectLoopAsync(CancellationToken stop)
    {
        var delay = _options.InitialReconnectDelay;
        var lastUp = DateTime.UtcNow;
        while (!stop.IsCancellationRequested)
        {
            Connection? c = null;
            try
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
                c = new Connection(socket, NewNonce(), 0);
                using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop))
                {
                    timeout.CancelAfter(_options.HandshakeTimeout);
                    await socket.ConnectAsync(_options.ConnectEndpoint!, timeout.Token).ConfigureAwait(false);
                    c.Attach();
                    if (!await ConnectorHandshakeAsync(c, timeout.Token).ConfigureAwait(false)) c = Drop(c);
                }
                if (c is not null)
                {
                    delay = _options.InitialReconnectDelay;
                    await FlushAsync(stop).ConfigureAwait(false);
                    await ReadLoopAsync(c, stop).ConfigureAwait(false);
                    lastUp = DateTime.UtcNow;
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { break; }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                _logger.LogDebug("Classical channel ({End}): connection to {Endpoint} failed: {Error}", _local, _options.ConnectEndpoint, e.Message);
            }
            catch (AuthenticationPadExhaustedException) { break; }
            finally
            {
                if (c is not null) Drop(c);
            }
            if (_options.GiveUpAfter is { } giveUp && DateTime.UtcNow - lastUp > giveUp)
            {
                Stop(ChannelCloseReason.Unreachable, $"Classical channel ({_local} end): no connection to {_options.ConnectEndpoint} for {giveUp}; giving up.");
                break;
            }
            try { await Task.Delay(delay, stop).ConfigureAwait(false); }
            catch (OperationCanceledException) { break; }
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxReconnectDelay.Ticks));
        }
    }

    private async Task AcceptLoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener!.AcceptSocketAsync(stop).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (stop.IsCancellationRequested) break;
                _logger.LogDebug("Classical channel ({End}): accept failed: {Error}", _local, e.Message);
                continue;
            }
            socket.NoDelay = true;
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            _ = Task.Run(() => ServeAsync(new Connection(socket, 0, NewNonce()), stop), CancellationToken.None);
        }
    }

    /// <summary>One accepted connection: handshake, take over from the previous connection, read until it ends.</summary>
    private async Task ServeAsync(Connection c, CancellationToken stop)
    {
        try
        {
            c.Attach();
            bool ok;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop))
            {
                timeout.CancelAfter(_options.HandshakeTimeout);
                ok = await ListenerHandshakeAsync(c, timeout.Token).ConfigureAwait(false);
            }
            if (!ok) return;
            await FlushAsync(stop).ConfigureAwait(false);
            await ReadLoopAsync(c, stop).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or AuthenticationPadExhaustedException)
        {
            _logger.LogDebug("Classical channel ({End}): connection ended: {Error}", _local, e.Message);
        }
        finally
        {
            Drop(c);
        }
    }

    private Connection? Drop(Connection c)
    {
        c.Abort();
        lock (_gate)
        {
            if (_current == c) _current = null;
        }
        return null;
    }

    private async ValueTask<bool> ConnectorHandshakeAsync(Connection c, CancellationToken cancellationToken)
    {
        if (!await SendControlAsync(c, FrameType.Hello).ConfigureAwait(false)) return false;
        var welcome = await ReadAuthenticatedAsync(c, cancellationToken).ConfigureAwait(false);
        if (welcome is not { } h) return false;
        if (h.Type != FrameType.Welcome || h.ConnectorNonce != c.ConnectorNonce || h.ListenerNonce == 0)
        {
            Reject(FrameRejection.Replayed, h);
            return false;
        }
        lock (_gate)
        {
            if (!Accept(h)) return false;
            c.ListenerNonce = h.ListenerNonce;
            if (h.SessionId != _session)
            {
                if (HasData)
                {
                    StopLocked(ChannelCloseReason.SessionLost,
                        $"Classical channel ({_local} end): the peer answered with session {h.SessionId}, not this end's session {_session}: " +
                        "it restarted and lost the session state. Start a new channel and restart the protocol at a block boundary.");
                    return false;
                }
                if ((h.Flags & FrameHeader.HasDataFlag) != 0)
                {
                    // The listener still holds an old session with data; it will end that session itself. Retry later.
                    _logger.LogInformation("Classical channel ({End}): the peer still holds an old session; retrying", _local);
                    return false;
                }
                _session = h.SessionId;
            }
            if (!ApplyPeerPosition(h.Acknowledged, c)) return false;
        }
        if (!await SendControlAsync(c, FrameType.Resume).ConfigureAwait(false)) return false;
        Establish(c);
        return true;
    }

    private async ValueTask<bool> ListenerHandshakeAsync(Connection c, CancellationToken cancellationToken)
    {
        var hello = await ReadAuthenticatedAsync(c, cancellationToken).ConfigureAwait(false);
        if (hello is not { } h) return false;
        if (h.Type != FrameType.Hello || h.ConnectorNonce == 0 || h.ListenerNonce != 0)
        {
            Reject(FrameRejection.Replayed, h);
            return false;
        }
        lock (_gate)
        {
            if (!Accept(h)) return false;
            c.ConnectorNonce = h.ConnectorNonce;
            if (h.SessionId == Guid.Empty || h.SessionId != _session)
            {
                if (HasData)
                {
                    StopLocked(ChannelCloseReason.SessionLost,
                        $"Classical channel ({_local} end): the peer opened {(h.SessionId == Guid.Empty ? "a new session" : $"session {h.SessionId}")} " +
                        $"while this end's session {_session} has exchanged data: it restarted and lost the session state. Start a new channel and restart the protocol at a block boundary.");
                    return false;
                }
                if (_session == Guid.Empty) _session = Guid.NewGuid();
            }
        }
        if (!await SendControlAsync(c, FrameType.Welcome).ConfigureAwait(false)) return false;
        var resume = await ReadAuthenticatedAsync(c, cancellationToken).ConfigureAwait(false);
        if (resume is not { } r) return false;
        lock (_gate)
        {
            if (r.Type != FrameType.Resume || r.SessionId != _session || r.ConnectorNonce != c.ConnectorNonce || r.ListenerNonce != c.ListenerNonce)
            {
                Reject(FrameRejection.Replayed, r);
                return false;
            }
            if (!Accept(r)) return false;
            if (!ApplyPeerPosition(r.Acknowledged, c)) return false;
        }
        Establish(c);
        return true;
    }

    private void Establish(Connection c)
    {
        Connection? previous;
        lock (_gate)
        {
            if (IsStopped) return;
            previous = _current;
            c.Established = true;
            _current = c;
            if (_everConnected) Security.CountReconnect();
            _everConnected = true;
        }
        if (previous is not null && previous != c) previous.Abort();
        _logger.LogInformation("Classical channel ({End}): connected, session {Session}", _local, SessionId);
    }

    /// <summary>
    /// The peer says it has received everything up to <paramref name="peerLastReceived"/>: drop those from the resend
    /// queue and resend the rest on this connection. Impossible positions mean the peer's state is not this session's.
    /// </summary>
    private bool ApplyPeerPosition(long peerLastReceived, Connection c)
    {
        long lowestKept = _unacked.Count > 0 ? _unacked[0].Sequence : _nextSeq;
        if (peerLastReceived >= _nextSeq || peerLastReceived < lowestKept - 1)
        {
            StopLocked(ChannelCloseReason.SessionLost,
                $"Classical channel ({_local} end): the peer reports message {peerLastReceived} as its last received, but this end has sent up to {_nextSeq - 1} " +
                $"and kept from {lowestKept}: the peer's session state is lost. Start a new channel at a block boundary.");
            return false;
        }
        PruneAcknowledged(peerLastReceived);
        c.LastWrittenSeq = peerLastReceived;
        return true;
    }

    private void PruneAcknowledged(long acknowledged)
    {
        int n = 0;
        while (n < _unacked.Count && _unacked[n].Sequence <= acknowledged) n++;
        if (n > 0) _unacked.RemoveRange(0, n);
    }

    /// <summary>
    /// Data went over the wire in this session (written or received): the peer's distiller may have acted on it, so the
    /// session cannot quietly start over. Messages queued before any connection do not count.
    /// </summary>
    private bool HasData => _highestWritten > 0 || _lastReceived > 0;

    // ---- receiving ----

    private async Task ReadLoopAsync(Connection c, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var header = await ReadAuthenticatedAsync(c, stop).ConfigureAwait(false);
            if (header is not { } h) return; // ended, or a rejection that resets the connection
            lock (_gate)
            {
                if (_current != c || IsStopped) return;
                if (h.SessionId != _session || h.ConnectorNonce != c.ConnectorNonce || h.ListenerNonce != c.ListenerNonce ||
                    h.Type is FrameType.Hello or FrameType.Welcome or FrameType.Resume)
                {
                    Reject(FrameRejection.Replayed, h);
                    continue;
                }
                if (h.Type is FrameType.Data or FrameType.End && h.Sequence > _lastReceived + 1)
                {
                    // Not accepted: the pad index and the expected sequence stay where they are. A frame in between is
                    // missing; reset so the resume resends it.
                    Reject(FrameRejection.Reordered, h);
                    return;
                }
                if (h.Type is FrameType.Data or FrameType.End && h.Sequence == 0)
                {
                    Reject(FrameRejection.Malformed, h);
                    return;
                }
                if (!Accept(h)) continue;
                if (h.Acknowledged >= _nextSeq)
                {
                    StopLocked(ChannelCloseReason.SessionLost, $"Classical channel ({_local} end): the peer acknowledged message {h.Acknowledged}, never sent: its session state is not this one.");
                    return;
                }
                PruneAcknowledged(h.Acknowledged);
                if (h.Type is FrameType.Data or FrameType.End)
                {
                    if (h.Sequence <= _lastReceived)
                    {
                        Security.CountDuplicate();
                        continue;
                    }
                    _lastReceived = h.Sequence;
                    if (h.Type == FrameType.Data)
                        _inbox.Writer.TryWrite(c.LastBody.AsMemory(FrameHeader.Size, h.PayloadLength));
                    else
                    {
                        if (_closeReason == ChannelCloseReason.None) _closeReason = ChannelCloseReason.PeerCompleted;
                        _inbox.Writer.TryComplete();
                    }
                    _ackSignal.Release();
                }
            }
        }
    }

    /// <summary>
    /// Reads and authenticates the next frame. Null when the connection ended or after a rejection that resets it;
    /// rejections that lose nothing (replayed, reflected copies) are counted and skipped.
    /// </summary>
    private async ValueTask<FrameHeader?> ReadAuthenticatedAsync(Connection c, CancellationToken cancellationToken)
    {
        while (true)
        {
            var body = await ReadFrameAsync(c, cancellationToken).ConfigureAwait(false);
            if (body is null) return null;
            var header = FrameHeader.TryRead(body);
            if (header is not { } h)
            {
                Security.CountRejected(FrameRejection.Malformed);
                return null;
            }
            if (h.PayloadLength != body.Length - FrameHeader.Overhead)
            {
                Security.CountRejected(h.PayloadLength > body.Length - FrameHeader.Overhead ? FrameRejection.Truncated : FrameRejection.Malformed);
                return null;
            }
            Security.CountTagChecked();
            if (h.Sender == _local)
            {
                // Our own direction coming back: a reflection if it carries our genuine tag, else a forgery.
                Security.CountRejected(TagValid(body, h, _local) ? FrameRejection.Reflected : FrameRejection.Forged);
                continue;
            }
            if (!await PadAvailableAsync(h.PadIndex, cancellationToken).ConfigureAwait(false) || !TagValid(body, h, _peer))
            {
                Security.CountRejected(FrameRejection.Forged);
                _logger.LogWarning("Classical channel ({End}): rejected a forged {Type} frame (pad index {Index})", _local, h.Type, h.PadIndex);
                return null;
            }
            lock (_gate)
            {
                if (h.PadIndex <= _watermark)
                {
                    Security.CountRejected(FrameRejection.Replayed);
                    continue;
                }
            }
            c.LastBody = body;
            return h;
        }
    }

    /// <summary>Marks the frame's pad index as the last accepted; false (a replay) if it is not above it.</summary>
    private bool Accept(FrameHeader h)
    {
        if (h.PadIndex <= _watermark)
        {
            Security.CountRejected(FrameRejection.Replayed);
            return false;
        }
        _watermark = h.PadIndex;
        return true;
    }

    private void Reject(FrameRejection reason, FrameHeader h)
    {
        Security.CountRejected(reason);
        _logger.LogWarning("Classical channel ({End}): rejected a {Type} frame: {Reason}", _local, h.Type, reason);
    }

    /// <summary>
    /// The peer may spend pad from a replenishment this end has not applied yet (the two nodes replenish at about the
    /// same time, not at the same instant): wait for it, within limits.
    /// </summary>
    private async ValueTask<bool> PadAvailableAsync(long index, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + _options.PadMaterialWait;
        while (index >= _pad.ChunksAvailable(_peer))
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) return false;
            await _pad.MaterialGrewAsync(left, cancellationToken).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
        return true;
    }

    private bool TagValid(byte[] body, FrameHeader h, ChannelEnd sender)
    {
        Span<byte> pad = stackalloc byte[Gf128PolynomialHash.TagBytes];
        Span<byte> expected = stackalloc byte[Gf128PolynomialHash.TagBytes];
        try
        {
            if (!_pad.TryReadPad(sender, h.PadIndex, pad)) return false;
            int authenticated = FrameHeader.Size + h.PayloadLength;
            Gf128PolynomialHash.ComputeTag(_hashKey, body.AsSpan(0, authenticated), pad, expected);
            return CryptographicOperations.FixedTimeEquals(expected, body.AsSpan(authenticated, Gf128PolynomialHash.TagBytes));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pad);
            CryptographicOperations.ZeroMemory(expected);
        }
    }

    private async ValueTask<byte[]?> ReadFrameAsync(Connection c, CancellationToken cancellationToken)
    {
        var prefix = c.Prefix;
        int got = await ReadUpToAsync(c.Stream, prefix, cancellationToken).ConfigureAwait(false);
        if (got == 0) return null; // clean end between frames
        if (got < prefix.Length)
        {
            Security.CountRejected(FrameRejection.Truncated);
            return null;
        }
        int length = BinaryPrimitives.ReadInt32LittleEndian(prefix);
        if (length < FrameHeader.Overhead)
        {
            Security.CountRejected(FrameRejection.Truncated);
            return null;
        }
        if (length > _options.MaxMessageBytes + FrameHeader.Overhead)
        {
            Security.CountRejected(FrameRejection.Malformed);
            return null;
        }
        var body = new byte[length];
        if (await ReadUpToAsync(c.Stream, body, cancellationToken).ConfigureAwait(false) < length)
        {
            Security.CountRejected(FrameRejection.Truncated);
            return null;
        }
        Security.CountWireReceived(length + 4);
        return body;
    }

    private static async ValueTask<int> ReadUpToAsync(Stream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    // ---- stopping ----

    private void Stop(ChannelCloseReason reason, string message)
    {
        lock (_gate) StopLocked(reason, message);
    }

    private void StopLocked(ChannelCloseReason reason, string message)
    {
        if (IsStopped) return;
        if (reason != ChannelCloseReason.Disposed)
            _logger.LogError("{Message}", message);
        bool peerCompleted = _closeReason == ChannelCloseReason.PeerCompleted;
        _closeReason = reason;
        _closeMessage = message;
        // A peer that completed already closed the inbox; otherwise the reason reaches ReceiveAsync.
        if (!peerCompleted) _inbox.Writer.TryComplete(new ClassicalChannelClosedException(message));
        _current?.Abort();
        _current = null;
        // Off the lock: cancelling runs continuations.
        ThreadPool.UnsafeQueueUserWorkItem(_ =>
        {
            try { _stop.Cancel(); } catch (ObjectDisposedException) { }
            _listener?.Stop();
        }, null);
    }

    private static ulong NewNonce()
    {
        ulong n;
        do n = BinaryPrimitives.ReadUInt64LittleEndian(RandomNumberGenerator.GetBytes(8));
        while (n == 0);
        return n;
    }

    private sealed record Outgoing(long Sequence, FrameType Type, byte[] Payload);

    private sealed class Connection(Socket socket, ulong connectorNonce, ulong listenerNonce)
    {
        private NetworkStream? _stream;

        public Socket Socket { get; } = socket;
        public NetworkStream Stream => _stream ?? throw new InvalidOperationException("Not connected.");
        public ulong ConnectorNonce { get; set; } = connectorNonce;
        public ulong ListenerNonce { get; set; } = listenerNonce;
        public bool Established { get; set; }
        public long LastWrittenSeq { get; set; }
        public byte[] Prefix { get; } = new byte[4];
        public byte[] LastBody { get; set; } = [];

        public void Attach() => _stream = new NetworkStream(Socket, ownsSocket: true);

        public void Abort()
        {
            try { Socket.Close(0); } catch (ObjectDisposedException) { }
            _stream?.Dispose();
        }
    }
}
