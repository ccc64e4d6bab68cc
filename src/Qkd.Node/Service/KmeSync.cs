using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;
using Qkd.Distillation.Channel;
using Qkd.Node.KeyDelivery;
using Qkd.Node.KeyStore;

namespace Qkd.Node.Service;

/// <summary>
/// The KME-to-KME messages beside the distillation protocol, on their own authenticated channel: enc_keys at one KME
/// tells the other which keys it reserved for which slave SAE, and waits until the peer has recorded it, so a master SAE
/// never holds a key_ID its slave could not redeem.
/// </summary>
public sealed class KmeSync : IReservationNotifier, IAsyncDisposable
{
    private const byte Reservation = 1;
    private const byte Recorded = 2;
    private const byte Refused = 3;
    private static readonly TimeSpan AckTimeout = TimeSpan.FromSeconds(5);

    private readonly IClassicalChannel _channel;
    private readonly IKeyPool _pool;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<long, TaskCompletionSource> _pending = new();
    private readonly CancellationTokenSource _stop = new();
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

    private long _sent, _recorded;

    public async ValueTask NotifyAsync(string masterSaeId, string slaveSaeId, IReadOnlyList<Guid> keyIds, CancellationToken cancellationToken)
    {
        long id = Interlocked.Increment(ref _nextId);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = done;
        try
        {
            await _channel.SendAsync(Encode(id, masterSaeId, slaveSaeId, keyIds), cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _sent);
            await done.Task.WaitAsync(AckTimeout, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        foreach (var pending in _pending.Values) pending.TrySetException(new ClassicalChannelClosedException("the KME link closed"));
        try { await _receive.ConfigureAwait(false); }
        catch (Exception e) when (e is OperationCanceledException or ClassicalChannelClosedException) { }
    }

    private async Task ReceiveLoopAsync()
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
                foreach (var pending in _pending.Values) pending.TrySetException(new ClassicalChannelClosedException("the KME link closed"));
                return;
            }
            try
            {
                Handle(message.Span);
            }
            catch (Exception e) when (e is InvalidDataException or ArgumentException)
            {
                _logger.LogError("KME link: malformed message ignored: {Error}", e.Message);
            }
        }
    }

    private void Handle(ReadOnlySpan<byte> message)
    {
        if (message.Length < 9) throw new InvalidDataException($"{message.Length}-byte message");
        long id = BinaryPrimitives.ReadInt64LittleEndian(message[1..]);
        switch (message[0])
        {
            case Reservation:
                var (master, slave, keys) = Decode(message[9..]);
                byte answer = Recorded;
                try
                {
                    _pool.RecordPeerReservation(master, slave, keys);
                    Interlocked.Increment(ref _recorded);
                }
                catch (Exception e) when (e is KeyNotFoundException or ArgumentException or InvalidOperationException)
                {
                    _logger.LogError("Peer reservation of {Count} keys for {Slave} refused: {Error}", keys.Count, slave, e.Message);
                    answer = Refused;
                }
                var reply = new byte[9];
                reply[0] = answer;
                BinaryPrimitives.WriteInt64LittleEndian(reply.AsSpan(1), id);
                _ = _channel.SendAsync(reply, _stop.Token).AsTask();
                break;
            case Recorded:
                if (_pending.TryGetValue(id, out var done)) done.TrySetResult();
                break;
            case Refused:
                if (_pending.TryGetValue(id, out var failed)) failed.TrySetException(new InvalidOperationException("the peer KME refused the reservation"));
                break;
            default:
                throw new InvalidDataException($"unknown message type {message[0]}");
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
