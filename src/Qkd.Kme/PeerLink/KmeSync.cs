using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;
using Qkd.Core.Channel;
using Qkd.Kme.Delivery;
using Qkd.Kme.Pool;

namespace Qkd.Kme.PeerLink;

/// <summary>
/// The KME-to-KME messages beside the distillation protocol, on their own authenticated channel: enc_keys at one KME
/// tells the other which keys it reserved for which slave SAE, and waits until the peer has recorded it, so a master SAE
/// never holds a key_ID its slave could not redeem.
/// </summary>
/// <remarks>
/// <para>Each reservation carries an ID the sender chose; the answer (Recorded or Refused) repeats it, so answers may
/// come in any order. The receiving end therefore records reservations concurrently: the receive loop starts each
/// record and reads on, and the answer goes out when the record has committed. Waiting for each commit before reading
/// the next message would cap the link at one reservation per durable commit and leave the pool's group commit
/// nothing to group.</para>
/// <para>No message depends on an earlier reservation having been recorded: reservations name disjoint keys (each
/// enc_keys takes keys nobody else holds), there is no release or cancel message, and the only thing that follows a
/// reservation, the slave's dec_keys, comes after the master's enc_keys answer, which waits for Recorded, which is sent
/// only once the record is durable.</para>
/// </remarks>
public sealed class KmeSync : IReservationNotifier, IAsyncDisposable
{
    private const byte Reservation = 1;
    private const byte Recorded = 2;
    private const byte Refused = 3;
    private static readonly TimeSpan AckTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Reservations being recorded at once. Beyond it the receive loop stops reading (back-pressure through the
    /// channel), so a flood of reservations cannot queue unbounded work on the pool; well above what one group commit
    /// gathers, so it does not limit throughput.
    /// </summary>
    public const int MaxInFlight = 256;

    private readonly IClassicalChannel _channel;
    private readonly IKeyPool _pool;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<long, TaskCompletionSource> _pending = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _inFlight = new(MaxInFlight, MaxInFlight);
    // One writer on the channel at a time: reservations (from any enc_keys) and answers (from any completed record).
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    // The answer being sent, reused under the send lock (the channel copies a message before SendAsync returns).
    private readonly byte[] _answer = new byte[9];
    private readonly Task _receive;
    private long _nextId;

    public KmeSync(IClassicalChannel channel, IKeyPool pool, ILogger logger)
    {
        _channel = channel;
        _pool = pool;
        _logger = logger;
        _receive = Task.Run(ReceiveLoopAsync);
    }

    public long ReservationsSent => Interlocked.Read(ref _sent);

    public long ReservationsRecorded => Interlocked.Read(ref _recorded);

    public long ReservationsRefused => Interlocked.Read(ref _refused);

    private long _sent, _recorded, _refused;

    public async ValueTask NotifyAsync(string masterSaeId, string slaveSaeId, IReadOnlyList<Guid> keyIds, CancellationToken cancellationToken)
    {
        long id = Interlocked.Increment(ref _nextId);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = done;
        try
        {
            byte[] message = Encode(id, masterSaeId, slaveSaeId, keyIds);
            await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await _channel.SendAsync(message, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _sendLock.Release();
            }
            Interlocked.Increment(ref _sent);
            await done.Task.WaitAsync(AckTimeout, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>Stops reading, waits for the reservations being recorded (their answers are dropped), and fails every wait for an answer.</summary>
    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        FailPending();
        try { await _receive.ConfigureAwait(false); }
        catch (Exception e) when (e is OperationCanceledException or ClassicalChannelClosedException) { }
    }

    private void FailPending()
    {
        foreach (var pending in _pending.Values) pending.TrySetException(new ClassicalChannelClosedException("the KME link closed"));
    }

    private async Task ReceiveLoopAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                ReadOnlyMemory<byte> message;
                try
                {
                    message = await _channel.ReceiveAsync(_stop.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or ClassicalChannelClosedException)
                {
                    FailPending();
                    return;
                }
                (long Id, string Master, string Slave, IReadOnlyList<Guid> Keys)? reservation;
                try
                {
                    reservation = Handle(message.Span);
                }
                catch (Exception e) when (e is InvalidDataException or ArgumentException)
                {
                    _logger.LogError("KME link: malformed message ignored: {Error}", e.Message);
                    continue;
                }
                if (reservation is not { } r) continue;
                try
                {
                    await _inFlight.WaitAsync(_stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return; // stopping: the peer's enc_keys times out and discards the keys, as for a lost link
                }
                _ = RecordAsync(r.Id, r.Master, r.Slave, r.Keys);
            }
        }
        finally
        {
            // Every record started holds a slot until its answer is sent (or dropped): taking all slots back waits for
            // them, so none outlives this object (nor touches the pool once its owner disposes it after us).
            for (int i = 0; i < MaxInFlight; i++) await _inFlight.WaitAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Answers a reservation or, for an answer, completes the enc_keys waiting for it; returns a reservation to record.</summary>
    private (long, string, string, IReadOnlyList<Guid>)? Handle(ReadOnlySpan<byte> message)
    {
        if (message.Length < 9) throw new InvalidDataException($"{message.Length}-byte message");
        long id = BinaryPrimitives.ReadInt64LittleEndian(message[1..]);
        switch (message[0])
        {
            case Reservation:
                var (master, slave, keys) = Decode(message[9..]);
                return (id, master, slave, keys);
            case Recorded:
                if (_pending.TryGetValue(id, out var done)) done.TrySetResult();
                return null;
            case Refused:
                if (_pending.TryGetValue(id, out var failed)) failed.TrySetException(new InvalidOperationException("the peer KME refused the reservation"));
                return null;
            default:
                throw new InvalidDataException($"unknown message type {message[0]}");
        }
    }

    /// <summary>
    /// Records one peer reservation (sharing the pool's group commit with any others in flight) and answers it. Never
    /// throws: every failure becomes a Refused answer (the peer then discards the keys) or, when the link is gone, a
    /// dropped one (the peer's wait times out alike).
    /// </summary>
    private async Task RecordAsync(long id, string master, string slave, IReadOnlyList<Guid> keys)
    {
        try
        {
            byte answer = Recorded;
            try
            {
                await _pool.RecordPeerReservationAsync(master, slave, keys).ConfigureAwait(false);
                Interlocked.Increment(ref _recorded);
            }
            catch (Exception e) when (e is KeyNotFoundException or ArgumentException or InvalidOperationException)
            {
                _logger.LogError("Peer reservation of {Count} keys for {Slave} refused: {Error}", keys.Count, slave, e.Message);
                answer = Refused;
            }
            catch (Exception e)
            {
                // Not a rule of the pool (the store failed, or is closing): still not recorded, so the peer must not hand the keys out.
                _logger.LogError(e, "Peer reservation of {Count} keys for {Slave} could not be recorded", keys.Count, slave);
                answer = Refused;
            }
            if (answer == Refused) Interlocked.Increment(ref _refused);
            await SendAnswerAsync(answer, id).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or ClassicalChannelClosedException or ObjectDisposedException or IOException or InvalidOperationException)
        {
            _logger.LogDebug("KME link: answer to reservation {Id} not sent: {Error}", id, e.Message);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "KME link: answer to reservation {Id} not sent", id);
        }
        finally
        {
            _inFlight.Release();
        }
    }

    private async ValueTask SendAnswerAsync(byte answer, long id)
    {
        await _sendLock.WaitAsync(_stop.Token).ConfigureAwait(false);
        try
        {
            _answer[0] = answer;
            BinaryPrimitives.WriteInt64LittleEndian(_answer.AsSpan(1), id);
            await _channel.SendAsync(_answer, _stop.Token).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private static byte[] Encode(long id, string master, string slave, IReadOnlyList<Guid> keys)
    {
        byte[] m = Encoding.UTF8.GetBytes(master), s = Encoding.UTF8.GetBytes(slave);
        var message = new byte[9 + 2 + m.Length + 2 + s.Length + 4 + 16 * keys.Count];
        message[0] = Reservation;
        BinaryPrimitives.WriteInt64LittleEndian(message.AsSpan(1), id);
        int at = 9;
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(at), (ushort)m.Length);
        m.CopyTo(message, at + 2);
        at += 2 + m.Length;
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(at), (ushort)s.Length);
        s.CopyTo(message, at + 2);
        at += 2 + s.Length;
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(at), keys.Count);
        at += 4;
        foreach (var key in keys)
        {
            key.TryWriteBytes(message.AsSpan(at), bigEndian: true, out _);
            at += 16;
        }
        return message;
    }

    private static (string Master, string Slave, IReadOnlyList<Guid> Keys) Decode(ReadOnlySpan<byte> body)
    {
        int at = 0;
        string Text(ReadOnlySpan<byte> b)
        {
            if (b.Length < at + 2) throw new InvalidDataException("truncated");
            int length = BinaryPrimitives.ReadUInt16LittleEndian(b[at..]);
            if (b.Length < at + 2 + length) throw new InvalidDataException("truncated");
            string text = Encoding.UTF8.GetString(b.Slice(at + 2, length));
            at += 2 + length;
            return text;
        }
        string master = Text(body), slave = Text(body);
        if (body.Length < at + 4) throw new InvalidDataException("truncated");
        int count = BinaryPrimitives.ReadInt32LittleEndian(body[at..]);
        at += 4;
        if (count < 0 || body.Length != at + 16L * count) throw new InvalidDataException($"{count} key IDs do not match the length");
        var keys = new Guid[count];
        for (int i = 0; i < count; i++) keys[i] = new Guid(body.Slice(at + 16 * i, 16), bigEndian: true);
        return (master, slave, keys);
    }
}
