using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Qkd.Core.Channel;
using Qkd.Kme.Pool;

namespace Qkd.Kme.PeerLink;

/// <summary>
/// The reservation protocol on one KME-link channel (one session of it; <see cref="PeerKmeLink"/> opens a new one
/// whenever the channel is lost): enc_keys at one KME tells the other which keys it reserved for which slave SAE and
/// waits until the peer has recorded them durably, so a master SAE never holds a key_ID its slave could not redeem.
/// </summary>
/// <remarks>
/// <para>Batched both ways. Reservations and answers wait in one queue; a single sender takes everything queued and
/// sends it as ONE message (one frame, one authentication tag), so while one frame is on its way the next batch
/// forms, as in the pool's group commit. enc_keys therefore never waits for another request's round trip, and the
/// link spends one tag of pad per batch, not per key.</para>
/// <para>The receiving end records the reservations of a message concurrently (they share the pool's group commit)
/// and answers each when its record has committed; answers carry the reservation's ID, so they may come in any
/// order. No message depends on an earlier one: reservations name disjoint keys, and the slave's dec_keys comes only
/// after the master's enc_keys answer, which waits for Recorded, sent only once the record is durable.</para>
/// <para>Wire format: a message is a version byte (2) followed by records until its end. Reservation (1): i64 id,
/// u16 length + UTF-8 master SAE, u16 length + UTF-8 slave SAE, i32 n, n x (16-byte key ID big-endian, i64 block ID or
/// -1). Answer (2): i64 id, u8 outcome (<see cref="ReservationOutcome"/>). Hello (3): nothing more; each end sends one
/// when the session starts, so each learns the other's KME is there (<see cref="PeerHeard"/>). Hybrid reservation (4):
/// a Reservation followed by u16 length + the ML-KEM ciphertext of the hybrid keys (<see cref="Hybrid.IHybridKeys"/>);
/// the peer stores the ciphertext durably before it records the reservation, and refuses it if it serves no hybrid
/// keys. Only a master asked for hybrid keys sends one, so a peer that predates it still reads every other record.
/// Integers little-endian.</para>
/// </remarks>
public sealed class KmeSync : IAsyncDisposable
{
    private const byte Version = 2;
    private const byte ReservationRecord = 1;
    private const byte AnswerRecord = 2;
    private const byte HelloRecord = 3;
    private const byte HybridReservationRecord = 4;
    private const int AnswerRecordBytes = 1 + 8 + 1;

    /// <summary>A message is closed once it passes this size (the rest goes in the next one).</summary>
    private const int MessageBytesTarget = 256 << 10;

    /// <summary>
    /// Reservations being recorded at once. Beyond it the receive loop stops reading (back-pressure through the
    /// channel), so a flood of reservations cannot queue unbounded work on the pool; well above what one group commit
    /// gathers, so it does not limit throughput.
    /// </summary>
    public const int MaxInFlight = 1024;

    public static readonly TimeSpan DefaultAnswerTimeout = TimeSpan.FromSeconds(10);

    private readonly IClassicalChannel _channel;
    private readonly IKeyPool _pool;
    private readonly ILogger _logger;
    private readonly TimeSpan _answerTimeout;
    private readonly ConcurrentDictionary<long, TaskCompletionSource<ReservationOutcome>> _pending = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _inFlight = new(MaxInFlight, MaxInFlight);
    private readonly Channel<Outgoing> _outgoing = Channel.CreateUnbounded<Outgoing>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ArrayBufferWriter<byte> _message = new(4096);
    private readonly Task _receive;
    private readonly Task _send;
    private long _nextId;
    private long _sent, _recorded, _refused, _messagesSent;
    private readonly TaskCompletionSource _peerHeard = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private readonly Hybrid.IHybridKeys? _hybrid;

    public KmeSync(IClassicalChannel channel, IKeyPool pool, ILogger logger, TimeSpan? answerTimeout = null, Hybrid.IHybridKeys? hybrid = null)
    {
        _hybrid = hybrid;
        _channel = channel;
        _pool = pool;
        _logger = logger;
        _answerTimeout = answerTimeout ?? DefaultAnswerTimeout;
        _outgoing.Writer.TryWrite(Outgoing.Hello);
        _receive = Task.Run(ReceiveLoopAsync);
        _send = Task.Run(SendLoopAsync);
        Completion = Task.WhenAny(_receive, _send).Unwrap();
    }

    /// <summary>Completes when this session of the link has ended (the channel closed or failed, or this was disposed).</summary>
    public Task Completion { get; }

    /// <summary>Completes when the first message of the peer's KME arrives on this session: the link works both ways.</summary>
    public Task PeerHeard => _peerHeard.Task;

    /// <summary>Reservations sent to the peer.</summary>
    public long ReservationsSent => Interlocked.Read(ref _sent);

    /// <summary>Peer reservations recorded here.</summary>
    public long ReservationsRecorded => Interlocked.Read(ref _recorded);

    /// <summary>Peer reservations refused or not recorded here.</summary>
    public long ReservationsRefused => Interlocked.Read(ref _refused);

    /// <summary>Messages (frames) sent: fewer than reservations plus answers when they were batched.</summary>
    public long MessagesSent => Interlocked.Read(ref _messagesSent);

    /// <summary>
    /// Sends the reservation and waits for the peer's answer.
    /// </summary>
    /// <exception cref="TimeoutException">No answer within the answer timeout.</exception>
    /// <exception cref="ClassicalChannelClosedException">The link ended before the answer came.</exception>
    public ValueTask<ReservationOutcome> ReserveAsync(string masterSaeId, string slaveSaeId, IReadOnlyList<ReservedKey> keys, CancellationToken cancellationToken) =>
        ReserveAsync(masterSaeId, slaveSaeId, keys, default, cancellationToken);

    /// <summary>Sends the reservation, with the ML-KEM ciphertext of hybrid keys when <paramref name="hybridCiphertext"/> is not empty, and waits for the answer.</summary>
    public async ValueTask<ReservationOutcome> ReserveAsync(string masterSaeId, string slaveSaeId, IReadOnlyList<ReservedKey> keys,
        ReadOnlyMemory<byte> hybridCiphertext, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfZero(keys.Count);
        long id = Interlocked.Increment(ref _nextId);
        var answer = new TaskCompletionSource<ReservationOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        try
        {
            if (_stop.IsCancellationRequested || !_outgoing.Writer.TryWrite(Outgoing.Reservation(id, masterSaeId, slaveSaeId, keys, hybridCiphertext)))
                throw new ClassicalChannelClosedException("the KME link closed");
            return await answer.Task.WaitAsync(_answerTimeout, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>Stops reading and sending, waits for the records in progress (their answers are dropped) and fails every wait for an answer.</summary>
    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _outgoing.Writer.TryComplete();
        FailPending();
        try { await _receive.ConfigureAwait(false); }
        catch (Exception e) when (e is OperationCanceledException or ClassicalChannelClosedException) { }
        try { await _send.ConfigureAwait(false); }
        catch (Exception e) when (e is OperationCanceledException or ClassicalChannelClosedException) { }
        // Every record started holds a slot until it has finished: taking all slots back waits for them, so none
        // outlives this object (nor touches the pool once its owner disposes it after us).
        for (int i = 0; i < MaxInFlight; i++) await _inFlight.WaitAsync().ConfigureAwait(false);
    }

    private void FailPending()
    {
        foreach (var pending in _pending.Values) pending.TrySetException(new ClassicalChannelClosedException("the KME link closed"));
    }

    // ---- sending ----

    private async Task SendLoopAsync()
    {
        var reader = _outgoing.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
            {
                _message.ResetWrittenCount();
                _message.GetSpan(1)[0] = Version;
                _message.Advance(1);
                int sentReservations = 0;
                while (_message.WrittenCount < MessageBytesTarget && reader.TryRead(out var item))
                {
                    if (item.Kind == HelloRecord) WriteHello();
                    else if (item.Kind == AnswerRecord) WriteAnswer(item.Id, item.Outcome);
                    else
                    {
                        WriteReservation(item);
                        sentReservations++;
                    }
                }
                await _channel.SendAsync(_message.WrittenMemory, _stop.Token).ConfigureAwait(false); // copied before it returns
                Interlocked.Add(ref _sent, sentReservations);
                Interlocked.Increment(ref _messagesSent);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ClassicalChannelClosedException or ObjectDisposedException or IOException or InvalidOperationException)
        {
            if (!_stop.IsCancellationRequested) _logger.LogDebug("KME link: sending stopped: {Error}", e.Message);
        }
        finally
        {
            _outgoing.Writer.TryComplete();
            FailPending();
        }
    }

    private void WriteHello()
    {
        _message.GetSpan(1)[0] = HelloRecord;
        _message.Advance(1);
    }

    private void WriteAnswer(long id, ReservationOutcome outcome)
    {
        var span = _message.GetSpan(AnswerRecordBytes);
        span[0] = AnswerRecord;
        BinaryPrimitives.WriteInt64LittleEndian(span[1..], id);
        span[9] = (byte)outcome;
        _message.Advance(AnswerRecordBytes);
    }

    private void WriteReservation(in Outgoing r)
    {
        int master = Encoding.UTF8.GetByteCount(r.Master!), slave = Encoding.UTF8.GetByteCount(r.Slave!);
        var keys = r.Keys!;
        bool hybrid = !r.Ciphertext.IsEmpty;
        int length = 1 + 8 + 2 + master + 2 + slave + 4 + 24 * keys.Count + (hybrid ? 2 + r.Ciphertext.Length : 0);
        var span = _message.GetSpan(length);
        span[0] = hybrid ? HybridReservationRecord : ReservationRecord;
        BinaryPrimitives.WriteInt64LittleEndian(span[1..], r.Id);
        int at = 9;
        BinaryPrimitives.WriteUInt16LittleEndian(span[at..], (ushort)master);
        at += 2 + Encoding.UTF8.GetBytes(r.Master, span[(at + 2)..]);
        BinaryPrimitives.WriteUInt16LittleEndian(span[at..], (ushort)slave);
        at += 2 + Encoding.UTF8.GetBytes(r.Slave, span[(at + 2)..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], keys.Count);
        at += 4;
        foreach (var key in keys)
        {
            key.Id.TryWriteBytes(span[at..], bigEndian: true, out _);
            BinaryPrimitives.WriteInt64LittleEndian(span[(at + 16)..], key.BlockId ?? -1);
            at += 24;
        }
        if (hybrid)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(span[at..], (ushort)r.Ciphertext.Length);
            r.Ciphertext.Span.CopyTo(span[(at + 2)..]);
        }
        _message.Advance(length);
    }

    // ---- receiving ----

    private async Task ReceiveLoopAsync()
    {
        var reservations = new List<(long Id, string Master, string Slave, ReservedKey[] Keys, byte[]? Ciphertext)>();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var message = await _channel.ReceiveAsync(_stop.Token).ConfigureAwait(false);
                reservations.Clear();
                try
                {
                    Read(message.Span, reservations);
                }
                catch (InvalidDataException e)
                {
                    // Authenticated, so from the peer's KME: a version this one does not speak, or a bug. Its
                    // reservations wait in the peer's outbox; nothing here changes.
                    _logger.LogError("KME link: a message from the peer KME could not be read and was ignored ({Bytes} bytes): {Error}", message.Length, e.Message);
                    continue;
                }
                foreach (var (id, master, slave, keys, ciphertext) in reservations)
                {
                    await _inFlight.WaitAsync(_stop.Token).ConfigureAwait(false);
                    _ = RecordAsync(id, master, slave, keys, ciphertext);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ClassicalChannelClosedException)
        {
            if (!_stop.IsCancellationRequested) _logger.LogDebug("KME link: receiving stopped: {Error}", e.Message);
        }
        finally
        {
            _outgoing.Writer.TryComplete();
            FailPending();
        }
    }

    /// <summary>Completes the waits the message's answers are for, and collects its reservations to record.</summary>
    private void Read(ReadOnlySpan<byte> message, List<(long, string, string, ReservedKey[], byte[]?)> reservations)
    {
        if (message.Length < 1 || message[0] != Version)
            throw new InvalidDataException($"KME link message version {(message.Length < 1 ? "(empty)" : message[0].ToString())}, this KME speaks {Version}");
        _peerHeard.TrySetResult();
        int at = 1;
        while (at < message.Length)
        {
            byte kind = message[at];
            if (kind == HelloRecord)
            {
                at++;
            }
            else if (kind == AnswerRecord)
            {
                if (message.Length < at + AnswerRecordBytes) throw new InvalidDataException("truncated answer");
                long id = BinaryPrimitives.ReadInt64LittleEndian(message[(at + 1)..]);
                var outcome = (ReservationOutcome)message[at + 9];
                if (!Enum.IsDefined(outcome)) throw new InvalidDataException($"unknown outcome {(byte)outcome}");
                if (_pending.TryGetValue(id, out var answer)) answer.TrySetResult(outcome);
                at += AnswerRecordBytes;
            }
            else if (kind is ReservationRecord or HybridReservationRecord)
            {
                if (message.Length < at + 9) throw new InvalidDataException("truncated reservation");
                long id = BinaryPrimitives.ReadInt64LittleEndian(message[(at + 1)..]);
                at += 9;
                string master = Text(message, ref at), slave = Text(message, ref at);
                if (message.Length < at + 4) throw new InvalidDataException("truncated reservation");
                int count = BinaryPrimitives.ReadInt32LittleEndian(message[at..]);
                at += 4;
                if (count < 1 || message.Length - at < 24L * count) throw new InvalidDataException($"{count} key IDs do not fit the message");
                var keys = new ReservedKey[count];
                for (int i = 0; i < count; i++, at += 24)
                {
                    long block = BinaryPrimitives.ReadInt64LittleEndian(message[(at + 16)..]);
                    keys[i] = new ReservedKey(new Guid(message.Slice(at, 16), bigEndian: true), block < 0 ? null : block);
                }
                byte[]? ciphertext = null;
                if (kind == HybridReservationRecord)
                {
                    if (message.Length < at + 2) throw new InvalidDataException("truncated hybrid reservation");
                    int length = BinaryPrimitives.ReadUInt16LittleEndian(message[at..]);
                    if (length == 0 || message.Length < at + 2 + length) throw new InvalidDataException("truncated hybrid ciphertext");
                    ciphertext = message.Slice(at + 2, length).ToArray();
                    at += 2 + length;
                }
                reservations.Add((id, master, slave, keys, ciphertext));
            }
            else
            {
                throw new InvalidDataException($"unknown record type {kind}");
            }
        }
    }

    private static string Text(ReadOnlySpan<byte> message, ref int at)
    {
        if (message.Length < at + 2) throw new InvalidDataException("truncated");
        int length = BinaryPrimitives.ReadUInt16LittleEndian(message[at..]);
        if (length == 0 || message.Length < at + 2 + length) throw new InvalidDataException("truncated SAE ID");
        string text = Encoding.UTF8.GetString(message.Slice(at + 2, length));
        at += 2 + length;
        return text;
    }

    /// <summary>
    /// Records one peer reservation (sharing the pool's group commit with any others in flight) and queues its answer.
    /// Never throws. A rule of the pool that refuses it is answered Refused (the peer drops it for good); a store that
    /// failed is answered NotRecorded (the peer keeps it in its outbox and sends it again later).
    /// </summary>
    private async Task RecordAsync(long id, string master, string slave, ReservedKey[] keys, byte[]? hybridCiphertext)
    {
        try
        {
            var outcome = ReservationOutcome.Recorded;
            try
            {
                if (hybridCiphertext is not null)
                {
                    // Durable before the reservation is recorded: a reservation answered Recorded always has its ciphertext.
                    if (_hybrid is null) throw new ReservationRefusedException("a hybrid reservation came, but this KME serves no hybrid keys (node config keyDelivery.hybrid)");
                    await _hybrid.RememberAsync(keys, hybridCiphertext).ConfigureAwait(false);
                }
                await _pool.RecordPeerReservationAsync(master, slave, keys).ConfigureAwait(false);
                Interlocked.Increment(ref _recorded);
            }
            catch (Exception e) when (e is ReservationRefusedException or ArgumentException)
            {
                _logger.LogError("Peer reservation of {Count} keys for {Slave} refused: {Error}", keys.Length, slave, e.Message);
                outcome = ReservationOutcome.Refused;
            }
            catch (Exception e)
            {
                // Not a rule of the pool (the store failed, or is closing): not recorded, the peer will send it again.
                _logger.LogError(e, "Peer reservation of {Count} keys for {Slave} could not be recorded; the peer KME sends it again later", keys.Length, slave);
                outcome = ReservationOutcome.NotRecorded;
            }
            if (outcome != ReservationOutcome.Recorded) Interlocked.Increment(ref _refused);
            if (!_outgoing.Writer.TryWrite(Outgoing.Answer(id, outcome)))
                _logger.LogDebug("KME link: answer to reservation {Id} not sent, the link closed", id);
        }
        finally
        {
            _inFlight.Release();
        }
    }

    /// <summary>A record to send: a reservation, an answer or the Hello.</summary>
    private readonly record struct Outgoing(byte Kind, long Id, string? Master, string? Slave, IReadOnlyList<ReservedKey>? Keys, ReservationOutcome Outcome,
        ReadOnlyMemory<byte> Ciphertext = default)
    {
        public static readonly Outgoing Hello = new(HelloRecord, 0, null, null, null, default);

        public static Outgoing Reservation(long id, string master, string slave, IReadOnlyList<ReservedKey> keys, ReadOnlyMemory<byte> ciphertext) =>
            new(ReservationRecord, id, master, slave, keys, default, ciphertext);

        public static Outgoing Answer(long id, ReservationOutcome outcome) => new(AnswerRecord, id, null, null, null, outcome);
    }
}

/// <summary>The peer KME's answer to a reservation.</summary>
public enum ReservationOutcome : byte
{
    /// <summary>Recorded durably (or already recorded, or already redeemed): the keys may be handed to the master SAE.</summary>
    Recorded = 1,

    /// <summary>Refused by a rule of the peer's pool (a key reserved for another SAE pair, a block it dropped): never will be recorded.</summary>
    Refused = 2,

    /// <summary>The peer's store failed: not recorded now, to be sent again.</summary>
    NotRecorded = 3,
}
