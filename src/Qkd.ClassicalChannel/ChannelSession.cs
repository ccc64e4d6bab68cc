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
/// exchanged) stops the session with <see cref="ChannelCloseReason.SessionLost"/>; one that completed the session
/// (its End delivered) and then opened its next session ends this one normally (<see cref="ChannelCloseReason.Finished"/>).
/// </para>
/// <para>
/// Hello, Welcome and Resume carry each end's <see cref="PadPosition"/>: both ends compare it with their own pad and
/// apply the replenishments both hold. An end whose state turns out older than the peer's is condemned and stops
/// (<see cref="ChannelCloseReason.PadStale"/>); a peer whose state is older is refused and told with a
/// <see cref="FrameType.Refused"/> notice it can check; a first handshake that fails names differing pre-shared secrets
/// at both ends and the connector then retries only every <see cref="TcpClassicalChannelOptions.SecretMismatchRetryDelay"/>.
/// Messages longer than <see cref="TcpClassicalChannelOptions.MaxFragmentBytes"/> travel as several Data frames.
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
    private readonly List<ReadOnlyMemory<byte>> _fragments = [];
    private readonly Task _ackLoop;
    private readonly AuthenticationPadStore _pad;
    private readonly ChannelKind _channel;
    private readonly string _name;
    private long _fragmentBytes;
    private bool _secretMismatch;
    private long _lastNoticeTicks = long.MinValue / 2;

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
        _pad = authenticator.Pad;
        _channel = options.Channel;
        _name = options.Channel == ChannelKind.Session ? $"{_local}" : $"{_local}, KME link";
        _ackLoop = Task.Run(() => AckLoopAsync(_stop.Token));
        // The other channel may find this end's pad state stale: this one stops too (its pad is condemned alike).
        _ = _pad.Stale.ContinueWith(t => Stop(ChannelCloseReason.PadStale, $"Classical channel ({_name} end) stopped: {t.Result}"),
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>True once a first handshake showed that the two ends' pre-shared secrets differ.</summary>
    public bool SecretMismatch
    {
        get { lock (_gate) return _secretMismatch; }
    }

    public TimeSpan? RetryDelay
    {
        get { lock (_gate) return _secretMismatch ? _options.SecretMismatchRetryDelay : null; }
    }

    /// <summary>Cancelled once the session has stopped (whatever the <see cref="CloseReason"/>); the transport stops with it.</summary>
    public CancellationToken Stopping => _stop.Token;

    /// <summary>Cancelled once the peer will send nothing more: its End arrived, or the session stopped (<see cref="Stopping"/>).</summary>
    public CancellationToken PeerGone => _peerGone.Token;

    private readonly CancellationTokenSource _peerGone = new();

    /// <summary>Cancels <see cref="PeerGone"/> off the caller's thread (cancelling runs the continuations of whoever waits on it).</summary>
    private void SignalPeerGone() => ThreadPool.UnsafeQueueUserWorkItem(_ =>
    {
        try { _peerGone.Cancel(); } catch (ObjectDisposedException) { }
    }, null);

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
            if (_endQueued) throw new InvalidOperationException($"Classical channel ({_name} end): Complete() was called; no message may follow.");
            // Cut into fragments, each its own authenticated frame: the receiver never allocates more than one fragment
            // for anything it has not authenticated.
            int fragment = TcpClassicalChannelOptions.MaxFragmentBytes;
            int at = 0;
            do
            {
                int n = Math.Min(fragment, message.Length - at);
                bool more = at + n < message.Length;
                _unacked.Add(new Outgoing(_nextSeq++, FrameType.Data, message.Slice(at, n).ToArray(), more ? FrameHeader.MoreFragmentsFlag : (byte)0));
                at += n;
            }
            while (at < message.Length);
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
                : $"Classical channel ({_name} end): the peer completed the session.");
        }
    }

    /// <summary>Queues End after the last message; the peer delivers everything before it, then its receiver is told the session is complete.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            if (_endQueued || IsStopped) return;
            _endQueued = true;
            _unacked.Add(new Outgoing(_nextSeq++, FrameType.End, [], 0));
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
        Stop(ChannelCloseReason.Disposed, $"Classical channel ({_name} end) was closed locally.");
        try { await _ackLoop.ConfigureAwait(false); }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException) { }
    }

    // ---- sending ----

    private bool IsStopped => _closeReason is not (ChannelCloseReason.None or ChannelCloseReason.PeerCompleted);

    private void ThrowIfStopped()
    {
        if (IsStopped) throw new ClassicalChannelClosedException(_closeMessage ?? $"Classical channel ({_name} end) is closed.");
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
                byte[] frame = SealFrame(c, next.Type, next.Sequence, next.Payload, next.Flags);
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
        catch (Exception e) when (e is OperationCanceledException or AuthenticationPadExhaustedException or AuthenticationPadStaleException or ObjectDisposedException)
        {
            _logger.LogDebug("Classical channel ({End}): background flush ended: {Error}", _name, e.Message);
        }
    }

    /// <summary>Sends a control frame (handshake or acknowledgement) at once, under the write lock.</summary>
    private async ValueTask<bool> SendControlAsync(SessionConnection c, FrameType type, ReadOnlyMemory<byte> payload = default, byte flags = 0)
    {
        await _writeLock.WaitAsync(_stop.Token).ConfigureAwait(false);
        try
        {
            return await c.Frames.WriteFrameAsync(SealFrame(c, type, 0, payload, flags), _stop.Token).ConfigureAwait(false);
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
    private byte[] SealFrame(SessionConnection c, FrameType type, long sequence, ReadOnlyMemory<byte> payload, byte extraFlags)
    {
        long ack;
        byte flags;
        Guid session;
        lock (_gate)
        {
            ack = _lastReceived;
            flags = (byte)((HasData ? FrameHeader.HasDataFlag : 0) | extraFlags);
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
            Stop(ChannelCloseReason.PadExhausted, $"Classical channel ({_name} end) stopped: {e.Message}");
            throw;
        }
        catch (AuthenticationPadStaleException e)
        {
            Stop(ChannelCloseReason.PadStale, $"Classical channel ({_name} end) stopped: {e.Message}");
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
        catch (AuthenticationPadStaleException) { }
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
        catch (Exception e) when (e is AuthenticationPadExhaustedException or AuthenticationPadStaleException)
        {
            return false; // the session stopped with PadExhausted or PadStale
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
        catch (Exception e) when (e is AuthenticationPadExhaustedException or AuthenticationPadStaleException) { } // the session stopped with PadExhausted or PadStale
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
        bool firstContact = !_pad.EverEstablished;
        if (!await SendControlAsync(c, FrameType.Hello, _pad.Position(_channel).ToBytes(), firstContact ? FrameHeader.CoversSecretFlag : (byte)0).ConfigureAwait(false))
            return false;
        FrameHeader h;
        PadPosition position;
        while (true)
        {
            if (await ReadHandshakeFrameAsync(c, cancellationToken).ConfigureAwait(false) is not { } v) return false;
            switch (v.Verdict)
            {
                case FrameVerdict.Notice:
                    if (v.Header.ConnectorNonce != c.ConnectorNonce)
                    {
                        Reject(FrameRejection.Replayed, v.Header); // a notice of another connection
                        continue;
                    }
                    await HandleNoticeAsync(c, v, replyListenerNonce: v.Header.ListenerNonce).ConfigureAwait(false);
                    return false;
                case FrameVerdict.Damaged when v.HeaderKnown && v.Header.Type is FrameType.Refused or FrameType.Welcome && firstContact && !v.BeyondMaterial:
                    // Never connected before, and the peer's first answer does not authenticate with this end's secret.
                    NameSecretMismatch(v.Header.Type == FrameType.Refused
                        ? "the peer refused this end's first Hello, and its refusal does not authenticate with this end's secret either"
                        : "the peer's first Welcome does not authenticate with this end's secret");
                    await SendNoticeAsync(c, RefusalReason.SecretMismatch, v.Header.ListenerNonce, v.Header.SessionId).ConfigureAwait(false);
                    return false;
                case FrameVerdict.Damaged:
                    LogDamaged(v);
                    return false;
                case FrameVerdict.Replayed when v.Header.Type == FrameType.Welcome && v.Header.ConnectorNonce == c.ConnectorNonce:
                    // A Welcome to this very Hello, at a pad index this end already accepted: the peer's state is older.
                    if (PadPosition.TryRead(v.Payload.Span) is { } old && _pad.Compare(_channel, old).Verdict == PadAgreementVerdict.PeerOlder)
                        await RefuseOlderPeerAsync(c, _pad.Compare(_channel, old).Explanation!, v.Header.ListenerNonce, v.Header.SessionId).ConfigureAwait(false);
                    return false;
                case FrameVerdict.Replayed:
                    continue;
            }
            h = v.Header;
            if (h.Type != FrameType.Welcome || h.ConnectorNonce != c.ConnectorNonce || h.ListenerNonce == 0)
            {
                Reject(FrameRejection.Replayed, h);
                return false;
            }
            if (PadPosition.TryRead(v.Payload.Span) is not { } p)
            {
                Reject(FrameRejection.Malformed, h);
                return false;
            }
            position = p;
            break;
        }
        if (!await AgreeAsync(c, position, h.ListenerNonce, h.SessionId).ConfigureAwait(false)) return false;
        lock (_gate)
        {
            if (!_authenticator.Accept(h)) return false;
            c.ListenerNonce = h.ListenerNonce;
            if (h.SessionId != _session)
            {
                if (HasData)
                {
                    if (_closeReason == ChannelCloseReason.PeerCompleted)
                        StopLocked(ChannelCloseReason.Finished,
                            $"Classical channel ({_name} end): session {_session} ended; the peer has moved on to session {h.SessionId}.");
                    else
                        StopLocked(ChannelCloseReason.SessionLost,
                            $"Classical channel ({_name} end): the peer answered with session {h.SessionId}, not this end's session {_session}: " +
                            "it restarted and lost the session state. Start a new channel and restart the protocol at a block boundary.");
                    return false;
                }
                if ((h.Flags & FrameHeader.HasDataFlag) != 0)
                {
                    // The listener still holds an old session with data; it will end that session itself. Retry later.
                    _logger.LogInformation("Classical channel ({End}): the peer still holds an old session; retrying", _name);
                    return false;
                }
                _session = h.SessionId;
            }
            if (!ApplyPeerPosition(h.Acknowledged, c)) return false;
        }
        if (!await SendControlAsync(c, FrameType.Resume, _pad.Position(_channel).ToBytes()).ConfigureAwait(false)) return false;
        Establish(c);
        return true;
    }

    private async ValueTask<bool> ListenerHandshakeAsync(SessionConnection c, CancellationToken cancellationToken)
    {
        FrameHeader h;
        PadPosition position;
        while (true)
        {
            if (await ReadHandshakeFrameAsync(c, cancellationToken).ConfigureAwait(false) is not { } v) return false;
            if (v.Verdict == FrameVerdict.Damaged && v.HeaderKnown && v.Header.Type == FrameType.Hello)
            {
                await UnauthenticatedHelloAsync(c, v, cancellationToken).ConfigureAwait(false);
                return false;
            }
            if (v.Verdict == FrameVerdict.Damaged)
            {
                LogDamaged(v);
                return false;
            }
            if (v.Verdict == FrameVerdict.Replayed && v.Header.Type == FrameType.Hello)
            {
                // A genuine Hello at a pad index this end already accepted: a replay, or a peer whose state is older.
                if (PadPosition.TryRead(v.Payload.Span) is { } old && _pad.Compare(_channel, old) is { Verdict: PadAgreementVerdict.PeerOlder } older)
                {
                    c.ConnectorNonce = v.Header.ConnectorNonce;
                    c.ListenerNonce = NewNonce();
                    await RefuseOlderPeerAsync(c, older.Explanation!, c.ListenerNonce, v.Header.SessionId).ConfigureAwait(false);
                }
                return false;
            }
            if (v.Verdict is FrameVerdict.Replayed or FrameVerdict.Notice) continue;
            h = v.Header;
            if (h.Type != FrameType.Hello || h.ConnectorNonce == 0 || h.ListenerNonce != 0)
            {
                Reject(FrameRejection.Replayed, h);
                return false;
            }
            if (PadPosition.TryRead(v.Payload.Span) is not { } p)
            {
                Reject(FrameRejection.Malformed, h);
                return false;
            }
            position = p;
            break;
        }
        c.ConnectorNonce = h.ConnectorNonce;
        if (!await AgreeAsync(c, position, c.ListenerNonce, h.SessionId).ConfigureAwait(false)) return false;
        lock (_gate)
        {
            if (!_authenticator.Accept(h)) return false;
            if (h.SessionId == Guid.Empty || h.SessionId != _session)
            {
                if (HasData)
                {
                    if (_closeReason == ChannelCloseReason.PeerCompleted)
                        StopLocked(ChannelCloseReason.Finished,
                            $"Classical channel ({_name} end): session {_session} ended; the peer has moved on to {(h.SessionId == Guid.Empty ? "a new session" : $"session {h.SessionId}")}.");
                    else
                        StopLocked(ChannelCloseReason.SessionLost,
                            $"Classical channel ({_name} end): the peer opened {(h.SessionId == Guid.Empty ? "a new session" : $"session {h.SessionId}")} " +
                            $"while this end's session {_session} has exchanged data: it restarted and lost the session state. Start a new channel and restart the protocol at a block boundary.");
                    return false;
                }
                if (_session == Guid.Empty) _session = Guid.NewGuid();
            }
        }
        bool firstContact = !_pad.EverEstablished;
        if (!await SendControlAsync(c, FrameType.Welcome, _pad.Position(_channel).ToBytes(), firstContact ? FrameHeader.CoversSecretFlag : (byte)0).ConfigureAwait(false))
            return false;
        FrameVerification r;
        while (true)
        {
            if (await ReadHandshakeFrameAsync(c, cancellationToken).ConfigureAwait(false) is not { } v) return false;
            if (v.Verdict == FrameVerdict.Notice && v.Header.ConnectorNonce == c.ConnectorNonce && v.Header.ListenerNonce == c.ListenerNonce)
            {
                await HandleNoticeAsync(c, v, replyListenerNonce: null).ConfigureAwait(false);
                return false;
            }
            if (v.Verdict == FrameVerdict.Damaged && v.HeaderKnown && v.Header.Type == FrameType.Refused && firstContact)
            {
                NameSecretMismatch("the peer refused this end's first Welcome, and its refusal does not authenticate with this end's secret either");
                return false;
            }
            if (v.Verdict == FrameVerdict.Damaged)
            {
                LogDamaged(v);
                return false;
            }
            if (v.Verdict is FrameVerdict.Replayed or FrameVerdict.Notice) continue;
            r = v;
            break;
        }
        var resume = r.Header;
        if (PadPosition.TryRead(r.Payload.Span) is not { } resumed)
        {
            Reject(FrameRejection.Malformed, resume);
            return false;
        }
        lock (_gate)
        {
            if (resume.Type != FrameType.Resume || resume.SessionId != _session || resume.ConnectorNonce != c.ConnectorNonce || resume.ListenerNonce != c.ListenerNonce)
            {
                Reject(FrameRejection.Replayed, resume);
                return false;
            }
        }
        if (!await AgreeAsync(c, resumed, c.ListenerNonce, resume.SessionId).ConfigureAwait(false)) return false;
        lock (_gate)
        {
            if (!_authenticator.Accept(resume)) return false;
            if (!ApplyPeerPosition(resume.Acknowledged, c)) return false;
        }
        Establish(c);
        return true;
    }

    /// <summary>
    /// Compares the peer's authentic position with this end's pad and applies the replenishments both hold. False when
    /// either state is older: this end's is condemned (the channel stops), or the peer is refused and told.
    /// </summary>
    private async ValueTask<bool> AgreeAsync(SessionConnection c, PadPosition peer, ulong listenerNonce, Guid session)
    {
        var agreement = _pad.Reconcile(_channel, peer);
        switch (agreement.Verdict)
        {
            case PadAgreementVerdict.ThisEndOlder:
                Condemn(agreement.Explanation!);
                return false;
            case PadAgreementVerdict.PeerOlder:
                await RefuseOlderPeerAsync(c, agreement.Explanation!, listenerNonce, session).ConfigureAwait(false);
                return false;
            default:
                if (agreement.Applied > 0)
                    _logger.LogInformation("Classical channel ({End}): {Count} replenishment(s) held by both ends joined the authentication pad (hash key epoch {Epoch})",
                        _name, agreement.Applied, _pad.AppliedReplenishments);
                return true;
        }
    }

    /// <summary>
    /// The listener could not authenticate a Hello. At first contact with a Hello that covers the peer's secret, the
    /// secrets differ; if the Hello names key or pad this end lacks, or comes from a peer that has talked to this end
    /// before while this end has never, this end's state may be the older one. Either way the peer is told (with this
    /// end's position, under the pre-shared notice reserve) and may answer once.
    /// </summary>
    private async ValueTask UnauthenticatedHelloAsync(SessionConnection c, FrameVerification v, CancellationToken cancellationToken)
    {
        bool firstContact = !_pad.EverEstablished;
        bool peerCoversSecret = (v.Header.Flags & FrameHeader.CoversSecretFlag) != 0;
        RefusalReason reason;
        if (firstContact && peerCoversSecret && !v.BeyondMaterial)
        {
            NameSecretMismatch("the peer's first Hello does not authenticate with this end's secret");
            reason = RefusalReason.SecretMismatch;
        }
        else if (v.BeyondMaterial || (firstContact && !peerCoversSecret))
        {
            _logger.LogWarning("Classical channel ({End}): cannot authenticate the peer's Hello (pad index {Index}, hash key epoch {Epoch}; this end is at epoch {Mine}{Never}): " +
                "either this end's pad state is older than the peer's (deleted or restored) or the frame is forged; telling the peer",
                _name, v.Header.PadIndex, v.Header.KeyEpoch, _pad.AppliedReplenishments, firstContact ? " and has never connected" : "");
            reason = RefusalReason.CannotAuthenticate;
        }
        else
        {
            LogDamaged(v);
            return;
        }
        c.ConnectorNonce = v.Header.ConnectorNonce;
        c.ListenerNonce = NewNonce();
        if (!await SendNoticeAsync(c, reason, c.ListenerNonce, v.Header.SessionId).ConfigureAwait(false)) return;
        // The peer may answer: an end with a newer state tells this one it is older.
        while (await ReadHandshakeFrameAsync(c, cancellationToken).ConfigureAwait(false) is { } answer)
        {
            if (answer.Verdict == FrameVerdict.Notice && answer.Header.ConnectorNonce == c.ConnectorNonce && answer.Header.ListenerNonce == c.ListenerNonce)
            {
                await HandleNoticeAsync(c, answer, replyListenerNonce: null).ConfigureAwait(false);
                return;
            }
            if (answer.Verdict == FrameVerdict.Damaged) return;
        }
    }

    /// <summary>
    /// A genuine refusal of the peer's for this connection. Nothing in it is taken on trust: the position it carries
    /// decides. If it shows this end's state older, this end is condemned; if it shows the peer's older, the peer is told.
    /// </summary>
    private async ValueTask HandleNoticeAsync(SessionConnection c, FrameVerification notice, ulong? replyListenerNonce)
    {
        var payload = notice.Payload.Span;
        if (payload.IsEmpty || PadPosition.TryRead(payload[1..]) is not { } peer)
        {
            Reject(FrameRejection.Malformed, notice.Header);
            return;
        }
        var reason = (RefusalReason)payload[0];
        var agreement = _pad.Compare(_channel, peer);
        if (agreement.Verdict == PadAgreementVerdict.ThisEndOlder)
        {
            Condemn(agreement.Explanation!);
            return;
        }
        if (agreement.Verdict == PadAgreementVerdict.PeerOlder)
        {
            if (replyListenerNonce is { } nonce)
                await RefuseOlderPeerAsync(c, agreement.Explanation!, nonce, notice.Header.SessionId).ConfigureAwait(false);
            return;
        }
        if (reason == RefusalReason.SecretMismatch && !_pad.EverEstablished)
            NameSecretMismatch("the peer cannot authenticate this end's first handshake frame");
        else
            _logger.LogWarning("Classical channel ({End}): the peer refused the handshake ({Reason}), but its pad position shows neither end's state older; retrying", _name, reason);
    }

    /// <summary>The peer's pad state is older than this end's: its frames are refused, and it is told so it can stop.</summary>
    private async ValueTask RefuseOlderPeerAsync(SessionConnection c, string explanation, ulong listenerNonce, Guid session)
    {
        _security.CountRejected(FrameRejection.StalePeer);
        _logger.LogWarning("Classical channel ({End}): refused the peer: its authentication pad state is older than this end's ({Explanation}). " +
            "Either a replay, or the peer's state folder was deleted or restored: then re-provision a fresh pre-shared secret at both ends", _name, explanation);
        await SendNoticeAsync(c, RefusalReason.PadStateOlder, listenerNonce, session).ConfigureAwait(false);
    }

    /// <summary>Sends a refusal with this end's position, under the notice reserve; at most one per <see cref="TcpClassicalChannelOptions.NoticeInterval"/>.</summary>
    private async ValueTask<bool> SendNoticeAsync(SessionConnection c, RefusalReason reason, ulong listenerNonce, Guid session)
    {
        long now = Environment.TickCount64;
        lock (_gate)
        {
            if (IsStopped || now - _lastNoticeTicks < (long)_options.NoticeInterval.TotalMilliseconds) return false;
            _lastNoticeTicks = now;
        }
        byte[] position = _pad.Position(_channel).ToBytes();
        var payload = new byte[1 + position.Length];
        payload[0] = (byte)reason;
        position.CopyTo(payload, 1);
        var frame = FrameConnection.NewFrame(FrameHeader.Overhead + payload.Length);
        var header = new FrameHeader(FrameType.Refused, _local, 0, payload.Length, 0, session, c.ConnectorNonce, listenerNonce, 0, 0);
        await _writeLock.WaitAsync(_stop.Token).ConfigureAwait(false);
        try
        {
            _authenticator.SealNotice(header, payload, frame.AsSpan(FrameConnection.LengthPrefixBytes));
            _security.CountNoticeSent();
            return await c.Frames.WriteFrameAsync(frame, _stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AuthenticationPadExhaustedException or AuthenticationPadStaleException)
        {
            _logger.LogDebug("Classical channel ({End}): refusal not sent: {Error}", _name, e.Message);
            return false;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Names differing secrets once per channel (an error: the operator must act), then only counts.</summary>
    private void NameSecretMismatch(string detail)
    {
        _security.CountSecretMismatch();
        bool first;
        lock (_gate)
        {
            first = !_secretMismatch;
            _secretMismatch = true;
        }
        if (first)
            _logger.LogError("Classical channel ({End}): the pre-shared secrets of the two ends differ: {Detail}. Install the same pre-shared secret file at both ends " +
                "(with empty state folders); {Retry}", _name, detail, _connector ? $"retrying every {_options.SecretMismatchRetryDelay}" : "waiting for the peer");
        else
            _logger.LogDebug("Classical channel ({End}): the pre-shared secrets of the two ends differ: {Detail}", _name, detail);
    }

    /// <summary>This end's pad state is older than the peer's: the store refuses all further use, and this channel stops.</summary>
    private void Condemn(string explanation)
    {
        _pad.Condemn(explanation);
        Stop(ChannelCloseReason.PadStale, $"Classical channel ({_name} end) stopped: {_pad.Stale.Result}");
    }

    private void LogDamaged(FrameVerification v)
    {
        if (v.HeaderKnown)
            _logger.LogWarning("Classical channel ({End}): rejected a {Type} frame that does not authenticate (pad index {Index}, hash key epoch {Epoch}): forged or damaged",
                _name, v.Header.Type, v.Header.PadIndex, v.Header.KeyEpoch);
    }

    /// <summary>The next frame of a handshake, whatever the verdict (foreign copies skipped); null when the connection ended.</summary>
    private async ValueTask<FrameVerification?> ReadHandshakeFrameAsync(SessionConnection c, CancellationToken cancellationToken)
    {
        while (true)
        {
            var body = await c.Frames.ReadFrameAsync(cancellationToken).ConfigureAwait(false);
            if (body is null) return null;
            if (FrameHeader.VersionOf(body) is var version && version != FrameHeader.Version && version != 0)
                LogOtherVersion(version);
            var verification = _authenticator.Verify(body);
            if (verification.Verdict == FrameVerdict.Foreign) continue;
            return verification;
        }
    }

    private void LogOtherVersion(byte version) =>
        _logger.LogError("Classical channel ({End}): the peer speaks classical channel frame version {Peer}, this end version {Mine}: run the same QkdDriver release at both ends",
            _name, version, FrameHeader.Version);

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
        _pad.MarkEstablished();
        _logger.LogInformation("Classical channel ({End}): connected, session {Session}", _name, Id);
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
                $"Classical channel ({_name} end): the peer reports message {peerLastReceived} as its last received, but this end has sent up to {_nextSeq - 1} " +
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
                if (h.Type is FrameType.Data or FrameType.End && h.Sequence == 0 ||
                    h.Type == FrameType.Data && h.Sequence == _lastReceived + 1 && _fragmentBytes + h.PayloadLength > _options.MaxMessageBytes)
                {
                    Reject(FrameRejection.Malformed, h);
                    return;
                }
                if (!_authenticator.Accept(h)) continue;
                if (h.Acknowledged >= _nextSeq)
                {
                    StopLocked(ChannelCloseReason.SessionLost, $"Classical channel ({_name} end): the peer acknowledged message {h.Acknowledged}, never sent: its session state is not this one.");
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
                        Deliver(frame.Payload, (h.Flags & FrameHeader.MoreFragmentsFlag) != 0);
                    else
                    {
                        if (_closeReason == ChannelCloseReason.None) _closeReason = ChannelCloseReason.PeerCompleted;
                        _inbox.Writer.TryComplete();
                        SignalPeerGone();
                    }
                    _ackSignal.Release();
                }
            }
        }
    }

    /// <summary>A message, or a fragment of one: whole messages go to the inbox (a single-frame one without a copy).</summary>
    private void Deliver(ReadOnlyMemory<byte> payload, bool more)
    {
        if (more || _fragments.Count > 0)
        {
            _fragments.Add(payload);
            _fragmentBytes += payload.Length;
            if (more) return;
            var message = new byte[_fragmentBytes];
            int at = 0;
            foreach (var part in _fragments)
            {
                part.CopyTo(message.AsMemory(at));
                at += part.Length;
            }
            _fragments.Clear();
            _fragmentBytes = 0;
            payload = message;
        }
        _inbox.Writer.TryWrite(payload);
    }

    /// <summary>
    /// Reads the next frame the authentication layer passes. Null when the connection ended or after a rejection that
    /// may have cost a genuine frame (the caller drops the connection); foreign copies, replays and notices are skipped.
    /// </summary>
    private async ValueTask<FrameVerification?> ReadAuthenticatedAsync(SessionConnection c, CancellationToken cancellationToken)
    {
        while (true)
        {
            var body = await c.Frames.ReadFrameAsync(cancellationToken).ConfigureAwait(false);
            if (body is null) return null;
            var verification = _authenticator.Verify(body);
            switch (verification.Verdict)
            {
                case FrameVerdict.Authentic: return verification;
                case FrameVerdict.Damaged:
                    LogDamaged(verification);
                    return null;
                default: continue;
            }
        }
    }

    private void Reject(FrameRejection reason, FrameHeader h)
    {
        _security.CountRejected(reason);
        _logger.LogWarning("Classical channel ({End}): rejected a {Type} frame: {Reason}", _name, h.Type, reason);
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
        // A session that ended normally is information; anything else that stops a channel is something wrong.
        if (reason == ChannelCloseReason.Finished)
            _logger.LogInformation("{Message}", message);
        else if (reason != ChannelCloseReason.Disposed)
            _logger.LogError("{Message}", message);
        bool peerCompleted = _closeReason == ChannelCloseReason.PeerCompleted;
        _closeReason = reason;
        _closeMessage = message;
        // A peer that completed already closed the inbox; otherwise the reason reaches ReceiveAsync.
        if (!peerCompleted) _inbox.Writer.TryComplete(new ClassicalChannelClosedException(message));
        _current?.Frames.Abort();
        _current = null;
        SignalPeerGone();
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
    private sealed record Outgoing(long Sequence, FrameType Type, byte[] Payload, byte Flags);
}
