using Microsoft.Extensions.Logging;
using Qkd.Core.Channel;
using Qkd.Kme.Delivery;
using Qkd.Kme.Pool;

namespace Qkd.Kme.PeerLink;

/// <summary>
/// The KME link for the node's whole life: carries enc_keys reservations to the peer KME (<see cref="IReservationNotifier"/>)
/// and heals by itself. A channel session ends for good when either KME restarts (the classical channel stops with
/// SessionLost: the peer lost the session state); this then closes it and opens a new one, without limit, so enc_keys
/// works again as soon as both KMEs are up, whichever end restarted, crashed or lost its network, and however often.
/// </summary>
/// <remarks>
/// <para>On every new session each end sends a Hello; once the peer's arrives the link is up (<see cref="IsUp"/>,
/// logged), and every reservation still in this pool's outbox (<see cref="IKeyPool.OutstandingReservations"/>: enc_keys
/// whose answer never came, because the link or either process went away half-way) is sent again; while the link stays
/// up, entries older than twice the answer timeout are sent again periodically. Recording is idempotent at the peer.
/// A reservation leaves the outbox once the peer answered Recorded or Refused.</para>
/// <para>While the channel has no connection, <see cref="IsPeerReachable"/> is false and enc_keys answers 503 before
/// taking keys. A session that ends before the peer was heard reopens after a delay that doubles up to
/// <see cref="PeerKmeLinkOptions.MaxReopenDelay"/> (each connection attempt spends authentication pad).</para>
/// </remarks>
public sealed class PeerKmeLink : IReservationNotifier, IAsyncDisposable
{
    private readonly Func<KmeLinkChannel> _reopen;
    private readonly IKeyPool _pool;
    private readonly ILogger _logger;
    private readonly PeerKmeLinkOptions _options;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;
    private readonly object _gate = new();
    private Session? _current;
    private TaskCompletionSource _sessionChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _sessionsOpened, _replayed, _forgetFailures;

    /// <param name="first">The first session's channel, opened by the caller (so a port that is taken fails the start-up).</param>
    /// <param name="reopen">Opens the next session's channel after one ended.</param>
    public PeerKmeLink(KmeLinkChannel first, Func<KmeLinkChannel> reopen, IKeyPool pool, ILogger logger, PeerKmeLinkOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(first);
        _reopen = reopen;
        _pool = pool;
        _logger = logger;
        _options = options ?? new PeerKmeLinkOptions();
        _run = Task.Run(() => RunAsync(first));
    }

    /// <summary>True while the current session's channel is connected to the peer.</summary>
    public bool IsPeerReachable
    {
        get
        {
            var s = Volatile.Read(ref _current);
            return s is not null && s.Channel.IsConnected;
        }
    }

    /// <summary>True once the peer's KME has been heard on the current session (and it is still connected).</summary>
    public bool IsUp
    {
        get
        {
            var s = Volatile.Read(ref _current);
            return s is not null && s.Sync.PeerHeard.IsCompleted && s.Channel.IsConnected;
        }
    }

    /// <summary>Sessions of the link opened so far (the first included).</summary>
    public long SessionsOpened => Interlocked.Read(ref _sessionsOpened);

    /// <summary>Outbox reservations sent again (after a reconnect, or still unanswered).</summary>
    public long ReservationsResent => Interlocked.Read(ref _replayed);

    /// <summary>The current session's protocol (null between sessions), for counters and tests.</summary>
    public KmeSync? Current => Volatile.Read(ref _current)?.Sync;

    public ValueTask NotifyAsync(string masterSaeId, string slaveSaeId, IReadOnlyList<ReservedKey> keys, CancellationToken cancellationToken) =>
        NotifyHybridAsync(masterSaeId, slaveSaeId, keys, default, cancellationToken);

    /// <summary>The reservation with the ML-KEM ciphertext of hybrid keys (empty: a plain reservation).</summary>
    public async ValueTask NotifyHybridAsync(string masterSaeId, string slaveSaeId, IReadOnlyList<ReservedKey> keys, ReadOnlyMemory<byte> ciphertext,
        CancellationToken cancellationToken)
    {
        var session = Volatile.Read(ref _current);
        if (session is null || !session.Channel.IsConnected)
            throw new ClassicalChannelClosedException("the KME link to the peer KME is down (reconnecting)");
        var outcome = await session.Sync.ReserveAsync(masterSaeId, slaveSaeId, keys, ciphertext, cancellationToken).ConfigureAwait(false);
        Settle(keys[0].Id, outcome);
        if (outcome != ReservationOutcome.Recorded)
            throw new InvalidOperationException(outcome == ReservationOutcome.Refused
                ? "the peer KME refused the reservation"
                : "the peer KME could not record the reservation now; it is sent again later");
    }

    /// <summary>The current session's number (0 between sessions); sessions are numbered from 1 in this process.</summary>
    public long CurrentSession => Volatile.Read(ref _current)?.Number ?? 0;

    /// <summary>
    /// Waits until the link is up on a session numbered above <paramref name="afterSession"/>: the peer's KME heard, and
    /// the outbox as it stood then sent again and answered (or its resend timed out). Returns that session's number.
    /// </summary>
    public async Task<long> WaitUntilUpAsync(CancellationToken cancellationToken, long afterSession = 0)
    {
        while (true)
        {
            Session? session;
            Task changed;
            lock (_gate)
            {
                session = _current;
                changed = _sessionChanged.Task;
            }
            if (session is not null && session.Number > afterSession)
            {
                await Task.WhenAny(session.Reconciled.Task, changed).WaitAsync(cancellationToken).ConfigureAwait(false);
                if (session.Reconciled.Task.IsCompleted && Volatile.Read(ref _current) == session) return session.Number;
            }
            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Closes the current session and stops reopening.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        await _run.ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task RunAsync(KmeLinkChannel first)
    {
        var channel = first;
        var delay = _options.MinReopenDelay;
        while (true)
        {
            var sync = new KmeSync(channel.Channel, _pool, _logger, _options.AnswerTimeout, _options.HybridKeys);
            var session = new Session(channel, sync, Interlocked.Increment(ref _sessionsOpened));
            Publish(session);
            using var sessionStop = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            var upkeep = UpkeepAsync(session, sessionStop.Token);
            try
            {
                await sync.Completion.WaitAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            bool wasUp = sync.PeerHeard.IsCompleted;
            Publish(null);
            await sessionStop.CancelAsync().ConfigureAwait(false);
            await upkeep.ConfigureAwait(false);
            await sync.DisposeAsync().ConfigureAwait(false);
            await CloseAsync(channel).ConfigureAwait(false);
            if (_stop.IsCancellationRequested) return;

            if (wasUp)
            {
                _logger.LogWarning("KME link: session {Session} with the peer KME ended (it restarted or the link broke); opening a new one", session.Number);
                delay = _options.MinReopenDelay;
            }
            else
            {
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxReopenDelay.Ticks));
            }
            KmeLinkChannel? next = null;
            while (next is null)
            {
                try
                {
                    await Task.Delay(delay, _stop.Token).ConfigureAwait(false);
                    next = _reopen();
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (Exception e)
                {
                    // A listener whose port is still held a moment after the last session, or a name that does not
                    // resolve now: try again, no faster than the delay.
                    _logger.LogWarning("KME link: could not open a new session ({Error}); retrying in {Delay}", e.Message, delay);
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxReopenDelay.Ticks));
                }
            }
            channel = next;
        }
    }

    private void Publish(Session? session)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            _current = session;
            changed = _sessionChanged;
            _sessionChanged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.TrySetResult();
    }

    private async ValueTask CloseAsync(KmeLinkChannel channel)
    {
        try
        {
            await channel.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _logger.LogWarning("KME link: closing the last session failed: {Error}", e.Message);
        }
    }

    /// <summary>Once the peer is heard: logs the link up and sends the outbox again; then resends what stays unanswered.</summary>
    private async Task UpkeepAsync(Session session, CancellationToken stop)
    {
        try
        {
            await session.Sync.PeerHeard.WaitAsync(stop).ConfigureAwait(false);
            var outstanding = _pool.OutstandingReservations();
            _logger.LogInformation("KME link up: session {Session} with the peer KME; {Count} reservation(s) not confirmed before are sent again",
                session.Number, outstanding.Count);
            await ResendAsync(session, outstanding, stop).ConfigureAwait(false);
            session.Reconciled.TrySetResult();
            while (true)
            {
                await Task.Delay(_options.ResendInterval, _options.TimeProvider, stop).ConfigureAwait(false);
                var cutoff = _options.TimeProvider.GetUtcNow() - 2 * _options.AnswerTimeout;
                var stale = _pool.OutstandingReservations().Where(r => r.TakenAt < cutoff).ToList();
                if (stale.Count == 0) continue;
                _logger.LogInformation("KME link: {Count} reservation(s) still unanswered are sent again", stale.Count);
                await ResendAsync(session, stale, stop).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
        }
        catch (Exception e)
        {
            _logger.LogError(e, "KME link: resending the outbox failed; it is tried again on the next session");
        }
    }

    private async Task ResendAsync(Session session, IReadOnlyList<OutgoingReservation> reservations, CancellationToken stop)
    {
        using var slots = new SemaphoreSlim(_options.MaxResendInFlight);
        var sends = new List<Task>(reservations.Count);
        foreach (var r in reservations)
        {
            await slots.WaitAsync(stop).ConfigureAwait(false);
            sends.Add(ResendOneAsync(session, r, slots, stop));
        }
        await Task.WhenAll(sends).ConfigureAwait(false);
    }

    private async Task ResendOneAsync(Session session, OutgoingReservation r, SemaphoreSlim slots, CancellationToken stop)
    {
        try
        {
            var outcome = await session.Sync.ReserveAsync(r.MasterSaeId, r.SlaveSaeId, r.Keys, stop).ConfigureAwait(false);
            Interlocked.Increment(ref _replayed);
            if (outcome != ReservationOutcome.NotRecorded) await ForgetAsync(r.Id).ConfigureAwait(false);
            if (outcome == ReservationOutcome.Refused)
                _logger.LogError("KME link: the peer KME refused reservation {Id} of {Count} keys (master SAE {Master}, slave SAE {Slave}) sent again; it is dropped",
                    r.Id, r.Keys.Count, r.MasterSaeId, r.SlaveSaeId);
        }
        catch (Exception e) when (e is TimeoutException or ClassicalChannelClosedException or OperationCanceledException)
        {
            // Stays in the outbox: the next session (or the next resend) tries again.
        }
        finally
        {
            slots.Release();
        }
    }

    /// <summary>An answer came: Recorded and Refused are final, so the reservation leaves the outbox (not waited for: the next batch commits it).</summary>
    private void Settle(Guid reservationId, ReservationOutcome outcome)
    {
        if (outcome == ReservationOutcome.NotRecorded) return;
        _ = ForgetAsync(reservationId);
    }

    private async Task ForgetAsync(Guid reservationId)
    {
        try
        {
            await _pool.ForgetReservationAsync(reservationId).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            // Closing: the entry stays and is sent again after the restart, which the peer answers at no cost.
        }
        catch (Exception e)
        {
            if (Interlocked.Increment(ref _forgetFailures) == 1)
                _logger.LogWarning("KME link: an answered reservation could not be removed from the outbox ({Error}); it will be sent again, harmlessly", e.Message);
        }
    }

    private sealed record Session(KmeLinkChannel Channel, KmeSync Sync, long Number)
    {
        /// <summary>The peer was heard and the outbox sent again.</summary>
        public TaskCompletionSource Reconciled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>Timing of the <see cref="PeerKmeLink"/>.</summary>
public sealed record PeerKmeLinkOptions
{
    /// <summary>How long enc_keys waits for the peer's answer before it answers 503 (the reservation stays in the outbox).</summary>
    public TimeSpan AnswerTimeout { get; init; } = KmeSync.DefaultAnswerTimeout;

    /// <summary>Delay before reopening after a session that had reached the peer.</summary>
    public TimeSpan MinReopenDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest delay between attempts while sessions keep ending before the peer is heard.</summary>
    public TimeSpan MaxReopenDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How often, while the link is up, reservations still unanswered are sent again.</summary>
    public TimeSpan ResendInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The pool's clock (outbox entries are stamped with it).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Outbox reservations sent again at once.</summary>
    public int MaxResendInFlight { get; init; } = 256;

    /// <summary>
    /// This KME's hybrid keys, to keep the ciphertexts of the peer's hybrid reservations (null: they are refused). An outbox
    /// reservation sent again goes plain: its keys were never handed out (enc_keys answered 503), so nothing needs combining.
    /// </summary>
    public Hybrid.IHybridKeys? HybridKeys { get; init; }
}
