using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Qkd.Core.Channel;

namespace Qkd.ClassicalChannel;

/// <summary>
/// Session layer of the TCP classical channel: whole messages, in order, exactly once, across any number of
/// connections the transport opens.
/// <para>
/// Every message (and the End of <see cref="Complete"/>) gets a sequence number and is kept until the peer
/// acknowledges it; every frame carries the last sequence received in order (acknowledgement). A connection starts with
/// Hello (connector: session id, fresh connector nonce) / Welcome (listener: session id, both nonces, its last received)
/// / Resume (connector: both nonces, its last received); then each side resends what the other lacks, so the distillers
/// see an unbroken ordered stream across reconnects. Every later frame must carry this session and both nonces: a frame
/// from another session or an earlier connection is a replay, even to a freshly restarted process.
/// </para>
/// <para>
/// A frame the authentication layer passed is delivered only if it belongs to this session and connection and its
/// sequence is the next expected. Rejections change nothing (the accepted pad index and the expected sequence only move
/// on acceptance), so the next genuine frame is still accepted. After a rejection that may have cost a genuine frame
/// (damaged, reordered) the session drops the connection and the reconnect's resume resends whatever was lost; a
/// foreign copy is just skipped. A peer that restarted and lost its session (another session id once data was
/// exchanged) stops the session with <see cref="ChannelCloseReason.SessionLost"/>.
/// </para>
/// </summary>
internal sealed class ChannelSession : IFrameConnectionHandler, IAsyncDisposable
{
    private readonly TcpClassicalChannelOptions _options;
    private readonly WegmanCarterAuthenticator _authenticator;
    private readonly ChannelSecurityCounters _security;
    private readonly ILogger _logger;
    private readonly ChannelEnd _local;
    private readonly bool _connector;
    private readonly CancellationTokenSource _stop = new();
    private readonly object _gate = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly SemaphoreSlim _ackSignal = new(0);
    private readonly Channel<ReadOnlyMemory<byte>> _inbox = System.Threading.Channels.Channel.CreateUnbounded<ReadOnlyMemory<byte>>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });
    private readonly List<Outgoing> _unacked = [];
    private readonly Task _ackLoop;

    // Session state, under _gate.
    private Guid _session;
    private long _nextSeq = 1;
    private long _lastReceived;
    private long _highestWritten;
    private long _ackSent;
    private bool _endQueued;
    private bool _everConnected;
    private SessionConnection? _current;
    private ChannelCloseReason _closeReason;
    private string? _closeMessage;

    /// <summary>Starts the standalone-acknowledgement loop; connections arrive through <see cref="IFrameConnectionHandler"/>.</summary>
    public ChannelSession(TcpClassicalChannelOptions options, WegmanCarterAuthenticator authenticator, ChannelSecurityCounters security, ILogger logger)
    {
        _options = options;
        _authenticator = authenticator;
        _security = security;
        _logger = logger;
        _local = options.LocalEnd;
        _connector = options.ConnectEndpoint is not null;
        _ackLoop = Task.Run(() => AckLoopAsync(_stop.Token));
    }

    /// <summary>Cancelled once the session has stopped (whatever the <see cref="CloseReason"/>); the transport stops with it.</summary>
    public CancellationToken Stopping => _stop.Token;

    /// <summary>The current session id (empty before the first handshake).</summary>
    public Guid Id
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

    // ---- the distiller's side ----

    /// <summary>Gives the message its sequence number and keeps a copy until the peer acknowledges it; <see cref="FlushAsync"/> sends it.</summary>
    public void Enqueue(ReadOnlyMemory<byte> message)
    {
        lock (_gate)
        {
            ThrowIfStopped();
            if (_endQueued) throw new InvalidOperationException($"Classical channel ({_local} end): Complete() was called; no message may follow.");
            _unacked.Add(new Outgoing(_nextSeq++, FrameType.Data, message.ToArray()));
        }
    }

    public async ValueTask<ReadOnlyMemory<byte>> ReceiveAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _inbox.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException e)
        {
            throw new ClassicalChannelClosedException(e.InnerException is ClassicalChannelClosedException inner
                ? inner.Message
                : $"Classical channel ({_local} end): the peer completed the session.");
        }
    }

    /// <summary>Queues End after the last message; the peer delivers everything before it, then its receiver is told the session is complete.</summary>
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

    /// <summary>Waits up to <paramref name="linger"/> for the peer to acknowledge everything sent (or for the session to stop).</summary>
    public async ValueTask WaitForAcknowledgementsAsync(TimeSpan linger)
    {
        var deadline = DateTime.UtcNow + linger;
        while (DateTime.UtcNow < deadline)
        {
            lock (_gate)
            {
                if (_unacked.Count == 0 || IsStopped) return;
            }
            await Task.Delay(10).ConfigureAwait(false);
        }
    }

    /// <summary>Stops the session as closed locally (unless it already stopped) and waits for its acknowledgement loop.</summary>
    public async ValueTask DisposeAsync()
    {
        Stop(ChannelCloseReason.Disposed, $"Classical channel ({_local} end) was closed locally.");
        try { await _ackLoop.ConfigureAwait(false); }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException) { }
    }

    // ---- sending ----

    private bool IsStopped => _closeReason is not (ChannelCloseReason.None or ChannelCloseReason.PeerCompleted);

    private void ThrowIfStopped()
    {
        if (IsStopped) throw new ClassicalChannelClosedException(_closeMessage ?? $"Classical channel ({_local} end) is closed.");
    }

    /// <summary>Writes, in sequence order, every queued message the current connection has not carried yet.</summary>
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (true)
            {
                SessionConnection? c;
                Outgoing next;
                lock (_gate)
                {
                    c = _current;
                    if (c is not { Established: true } || IsStopped) return;
                    int i = _unacked.Count == 0 ? 0 : (int)Math.Max(0, c.LastWrittenSeq + 1 - _unacked[0].Sequence);
                    if (i >= _unacked.Count) return;
                    next = _unacked[i];
                }
                byte[] frame = SealFrame(c, next.Type, next.Sequence, next.Payload);
                if (!await c.Frames.WriteFrameAsync(frame, _stop.Token).ConfigureAwait(false)) return;
                c.LastWrittenSeq = next.Sequence;
                lock (_gate)
                {
                    if (next.Sequence <= _highestWritten) _security.CountResent();
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
    private async ValueTask<bool> SendControlAsync(SessionConnection c, FrameType type)
    {
        await _writeLock.WaitAsync(_stop.Token).ConfigureAwait(false);
        try
        {
            return await c.Frames.WriteFrameAsync(SealFrame(c, type, 0, ReadOnlyMemory<byte>.Empty), _stop.Token).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// A whole frame carrying this session's position, sealed by the authentication layer. Called under the write lock,
    /// so frames reach the wire in the order they were sealed (pad indices rising).
    /// </summary>
    private byte[] SealFrame(SessionConnection c, FrameType type, long sequence, ReadOnlyMemory<byte> payload)
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
        var frame = FrameConnection.NewFrame(FrameHeader.Overhead + payload.Length);
        var header = new FrameHeader(type, _local, flags, payload.Length, PadIndex: 0, session, c.ConnectorNonce, c.ListenerNonce, sequence, ack);
        try
        {
            _authenticator.Seal(header, payload.Span, frame.AsSpan(FrameConnection.LengthPrefixBytes));
        }
        catch (AuthenticationPadExhaustedException e)
        {
            Stop(ChannelCloseReason.PadExhausted, $"Classical channel ({_local} end) stopped: {e.Message}");
            throw;
        }
        lock (_gate) _ackSent = Math.Max(_ackSent, ack);
        return frame;
    }

    /// <summary>
    /// A standalone Ack only when received messages stayed unacknowledged for <see cref="TcpClassicalChannelOptions.AckDelay"/>:
    /// outgoing traffic carries acknowledgements anyway, and each standalone one costs a tag's pad.
    /// </summary>
    private async Task AckLoopAsync(CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await _ackSignal.WaitAsync(stop).ConfigureAwait(false);
                await Task.Delay(_options.AckDelay, stop).ConfigureAwait(false);
                while (_ackSignal.CurrentCount > 0) _ackSignal.Wait(0);
                SessionConnection? c;
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

    // ---- connections (called by the transport) ----

    public async ValueTask<bool> HandshakeAsync(FrameConnection connection, CancellationToken deadline)
    {
        // A stopped session spends no more pad on a connection it could not use.
        lock (_gate)
        {
            if (IsStopped) return false;
        }
        try
        {
            return _connector
                ? await ConnectorHandshakeAsync(new SessionConnection(connection, NewNonce(), 0), deadline).ConfigureAwait(false)
                : await ListenerHandshakeAsync(new SessionConnection(connection, 0, NewNonce()), deadline).ConfigureAwait(false);
        }
        catch (AuthenticationPadExhaustedException)
        {
            return false; // the session stopped with PadExhausted when the pad ran out
        }
    }

    public async Task ServeAsync(FrameConnection connection, CancellationToken stop)
    {
        SessionConnection? c;
        lock (_gate) c = _current?.Frames == connection ? _current : null;
        // Not current: a newer connection took over (aborting this one) or the session stopped.
        if (c is null) return;
        try
        {
            await FlushAsync(stop).ConfigureAwait(false);
            await ReadLoopAsync(c, stop).ConfigureAwait(false);
        }
        catch (AuthenticationPadExhaustedException) { } // the session stopped with PadExhausted
        finally
        {
            Drop(c);
        }
    }

    public void ConnectingAbandoned(string reason) => Stop(ChannelCloseReason.Unreachable, reason);

    private void Drop(SessionConnection c)
    {
        c.Frames.Abort();
        lock (_gate)
        {
            if (_current == c) _current = null;
        }
    }

    private async ValueTask<bool> ConnectorHandshakeAsync(SessionConnection c, CancellationToken cancellationToken)
    {
        if (!await SendControlAsync(c, FrameType.Hello).ConfigureAwait(false)) return false;
        if (await ReadAuthenticatedAsync(c, cancellationToken).ConfigureAwait(false) is not { Header: var h }) return false;
        if (h.Type != FrameType.Welcome || h.ConnectorNonce != c.ConnectorNonce || h.ListenerNonce == 0)
        {
            Reject(FrameRejection.Replayed, h);
            return false;
        }
        lock (_gate)
        {
            if (!_authenticator.Accept(h)) return false;
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

    private async ValueTask<bool> ListenerHandshakeAsync(SessionConnection c, CancellationToken cancellationToken)
    {
        if (await ReadAuthenticatedAsync(c, cancellationToken).ConfigureAwait(false) is not { Header: var h }) return false;
        if (h.Type != FrameType.Hello || h.ConnectorNonce == 0 || h.ListenerNonce != 0)
        {
            Reject(FrameRejection.Replayed, h);
            return false;
        }
        lock (_gate)
        {
            if (!_authenticator.Accept(h)) return false;
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
        if (await ReadAuthenticatedAsync(c, cancellationToken).ConfigureAwait(false) is not { Header: var r }) return false;
        lock (_gate)
        {
            if (r.Type != FrameType.Resume || r.SessionId != _session || r.ConnectorNonce != c.ConnectorNonce || r.ListenerNonce != c.ListenerNonce)
            {
                Reject(FrameRejection.Replayed, r);
                return false;
            }
            if (!_authenticator.Accept(r)) return false;
            if (!ApplyPeerPosition(r.Acknowledged, c)) return false;
        }
        Establish(c);
        return true;
    }

    /// <summary>The handshake is done: this connection becomes the current one and the one before it (if any) is aborted.</summary>
    private void Establish(SessionConnection c)
    {
        SessionConnection? previous;
        lock (_gate)
        {
            if (IsStopped) return;
            previous = _current;
            c.Established = true;
            _current = c;
            if (_everConnected) _security.CountReconnect();
            _everConnected = true;
        }
        if (previous is not null && previous != c) previous.Frames.Abort();
        _logger.LogInformation("Classical channel ({End}): connected, session {Session}", _local, Id);
    }

    /// <summary>
    /// The peer says it has received everything up to <paramref name="peerLastReceived"/>: drop those from the resend
    /// queue and resend the rest on this connection. Impossible positions mean the peer's state is not this session's.
    /// </summary>
    private bool ApplyPeerPosition(long peerLastReceived, SessionConnection c)
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

    private async Task ReadLoopAsync(SessionConnection c, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            if (await ReadAuthenticatedAsync(c, stop).ConfigureAwait(false) is not { Header: var h } frame)
                return; // ended, or a rejection that resets the connection
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
                if (!_authenticator.Accept(h)) continue;
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
                        _security.CountDuplicate();
                        continue;
                    }
                    _lastReceived = h.Sequence;
                    if (h.Type == FrameType.Data)
                        _inbox.Writer.TryWrite(frame.Payload);
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
    /// Reads the next frame the authentication layer passes. Null when the connection ended or after a rejection that
    /// may have cost a genuine frame (the caller drops the connection); foreign copies are skipped.
    /// </summary>
    private async ValueTask<FrameVerification?> ReadAuthenticatedAsync(SessionConnection c, CancellationToken cancellationToken)
    {
        while (true)
        {
            var body = await c.Frames.ReadFrameAsync(cancellationToken).ConfigureAwait(false);
            if (body is null) return null;
            var verification = await _authenticator.VerifyAsync(body, cancellationToken).ConfigureAwait(false);
            switch (verification.Verdict)
            {
                case FrameVerdict.Authentic: return verification;
                case FrameVerdict.Foreign: continue;
                default: return null;
            }
        }
    }

    private void Reject(FrameRejection reason, FrameHeader h)
    {
        _security.CountRejected(reason);
        _logger.LogWarning("Classical channel ({End}): rejected a {Type} frame: {Reason}", _local, h.Type, reason);
    }

    // ---- stopping ----

    /// <summary>Stops the session for good (the first reason wins); a pending or later receive throws with <paramref name="message"/>.</summary>
    public void Stop(ChannelCloseReason reason, string message)
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
        _current?.Frames.Abort();
        _current = null;
        // Off the lock: cancelling runs continuations (the transport's loops, the acknowledgement loop).
        ThreadPool.UnsafeQueueUserWorkItem(_ =>
        {
            try { _stop.Cancel(); } catch (ObjectDisposedException) { }
        }, null);
    }

    private static ulong NewNonce()
    {
        ulong n;
        do n = BinaryPrimitives.ReadUInt64LittleEndian(RandomNumberGenerator.GetBytes(8));
        while (n == 0);
        return n;
    }

    /// <summary>A message (or End) kept for resending until the peer acknowledges its sequence number.</summary>
    private sealed record Outgoing(long Sequence, FrameType Type, byte[] Payload);
}
