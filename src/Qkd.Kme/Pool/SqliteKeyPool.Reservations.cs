using System.Buffers.Binary;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Qkd.Kme.Pool;

/// <summary>
/// The reservation outbox and reservation expiry.
/// </summary>
/// <remarks>
/// <para>Outbox. enc_keys deletes the master keys and writes one outbox row (the SAE pair, each key's ID and block) in
/// the same transaction, so a reservation exists durably from the moment its keys leave the pool. The KME link sends
/// it to the peer, and sends every row again whenever the link comes back; the row is deleted once the peer answers.
/// Recording at the peer is idempotent (<see cref="StagePeerReservation"/>), so "sent again" is always safe, and a
/// reservation cut half-way (the link or either process gone between the take and the answer) ends recorded at the
/// slave: the key is deliverable at both ends (and expires there if the master SAE never got it), never held at one end
/// only. The row holds IDs and block numbers, no key material.</para>
/// <para>Expiry. A peer reservation is stamped when recorded; one older than <see cref="SqliteKeyPoolOptions.ReservationExpiry"/>
/// is refused by dec_keys at once and deleted with its key by a sweep that runs on the pool's clock (by default every
/// eighth of the expiry, between 1 s and 1 min), counted in <see cref="KeyPoolStatistics.KeysExpired"/>.</para>
/// </remarks>
public sealed partial class SqliteKeyPool
{
    private const int OutboxKeyBytes = 16 + 8;

    private ITimer? _expiryTimer;
    private int _expiryRunning;

    private long NowMilliseconds => Options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Reservations recorded at or before this instant (Unix ms) have expired.</summary>
    private long ExpiredBefore => NowMilliseconds - (long)Options.ReservationExpiry.TotalMilliseconds;

    public IReadOnlyList<OutgoingReservation> OutstandingReservations()
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            using var cmd = _db.CreateCommand();
            cmd.CommandText = "SELECT master_sae, slave_sae, keys, taken_at FROM outbox ORDER BY taken_at";
            using var reader = cmd.ExecuteReader();
            var result = new List<OutgoingReservation>();
            while (reader.Read())
            {
                var packed = (byte[])reader.GetValue(2);
                var keys = new ReservedKey[packed.Length / OutboxKeyBytes];
                for (int i = 0; i < keys.Length; i++)
                {
                    var entry = packed.AsSpan(i * OutboxKeyBytes, OutboxKeyBytes);
                    keys[i] = new ReservedKey(new Guid(entry[..16], bigEndian: true), BinaryPrimitives.ReadInt64LittleEndian(entry[16..]));
                }
                result.Add(new OutgoingReservation(reader.GetString(0), reader.GetString(1), keys,
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3))));
            }
            return result;
        }
    }

    /// <summary>
    /// Queues the outbox entry for deletion. Every entry queued until the writer gets to it goes in one operation (one
    /// per group commit at most, however many enc_keys were answered), so confirming costs the writer next to nothing.
    /// </summary>
    public ValueTask ForgetReservationAsync(Guid reservationId)
    {
        Task batch;
        lock (_forgetGate)
        {
            _forgetQueue.Add(reservationId.ToByteArray(bigEndian: true));
            // One deletion operation waits in the writer's queue at a time; it takes whatever was queued by then.
            _forgetBatch ??= WriteAsync<object?>(StageForget);
            batch = _forgetBatch;
        }
        return new ValueTask(batch);
    }

    private readonly object _forgetGate = new();
    private List<byte[]> _forgetQueue = [];
    private List<byte[]> _forgetSpare = [];
    private Task<object?>? _forgetBatch;

    private object? StageForget(SqliteTransaction tx, long available, out MirrorChange change)
    {
        List<byte[]> ids;
        lock (_forgetGate)
        {
            ids = _forgetQueue;
            _forgetQueue = _forgetSpare;
            _forgetBatch = null; // forgets queued from now on go in the next operation
        }
        _deleteOutbox.Transaction = tx;
        long deleted = 0;
        foreach (var id in ids)
        {
            _deleteOutbox.Parameters[0].Value = id;
            deleted += _deleteOutbox.ExecuteNonQuery();
        }
        ids.Clear();
        lock (_forgetGate) _forgetSpare = ids;
        change = new MirrorChange { Outbox = -deleted };
        return null;
    }

    /// <summary>
    /// Deletes every peer reservation older than the expiry, with its key when present, in one transaction; returns
    /// the keys and reservations removed. The pool runs this on its clock; tests call it after moving a fake one.
    /// </summary>
    public async ValueTask<(long Keys, long Reservations)> ExpireReservationsAsync()
    {
        var expired = await WriteAsync((SqliteTransaction tx, long _, out MirrorChange change) =>
        {
            long cut = ExpiredBefore;
            string ofExpired = $"SELECT key_id FROM reservations WHERE recorded_at <= {cut}";
            long reservations = Convert.ToInt64(Scalar($"SELECT COUNT(*) FROM reservations WHERE recorded_at <= {cut}", tx));
            if (reservations == 0)
            {
                change = default;
                return (0L, 0L);
            }
            long keys = Convert.ToInt64(Scalar($"SELECT COUNT(*) FROM peer_keys WHERE key_id IN ({ofExpired})", tx));
            // secure_delete zeroes the freed pages of the sealed keys.
            Execute($"DELETE FROM peer_keys WHERE key_id IN ({ofExpired})", tx);
            Execute($"DELETE FROM reservations WHERE recorded_at <= {cut}", tx);
            change = new MirrorChange { Held = -keys, Reservations = -reservations, Counters = new Counters { KeysExpired = keys, ReservationsExpired = reservations } };
            return (keys, reservations);
        }).ConfigureAwait(false);
        if (expired.Item2 > 0)
            _logger.LogWarning(
                "Key pool {Path}: {Keys} keys reserved by the peer's enc_keys were not redeemed by their slave SAE within {Expiry} and expired ({Reservations} reservations removed)",
                DatabasePath, expired.Item1, Options.ReservationExpiry, expired.Item2);
        return expired;
    }

    /// <summary>Writes the outbox row of an enc_keys (inside its transaction).</summary>
    private void InsertOutbox(SqliteTransaction tx, string masterSaeId, string slaveSaeId, List<DeliveredKey> keys)
    {
        var packed = new byte[keys.Count * OutboxKeyBytes];
        for (int i = 0; i < keys.Count; i++)
        {
            var entry = packed.AsSpan(i * OutboxKeyBytes, OutboxKeyBytes);
            keys[i].Id.TryWriteBytes(entry, bigEndian: true, out _);
            BinaryPrimitives.WriteInt64LittleEndian(entry[16..], keys[i].BlockId!.Value);
        }
        _insertOutbox.Transaction = tx;
        _insertOutbox.Parameters[0].Value = packed.AsSpan(0, 16).ToArray();
        _insertOutbox.Parameters[1].Value = masterSaeId;
        _insertOutbox.Parameters[2].Value = slaveSaeId;
        _insertOutbox.Parameters[3].Value = packed;
        _insertOutbox.Parameters[4].Value = NowMilliseconds;
        _insertOutbox.ExecuteNonQuery();
    }

    private void StartExpiry()
    {
        var period = Options.ExpirySweepInterval
                     ?? TimeSpan.FromTicks(Math.Clamp(Options.ReservationExpiry.Ticks / 8, TimeSpan.TicksPerSecond, TimeSpan.TicksPerMinute));
        _expiryTimer = Options.TimeProvider.CreateTimer(_ => _ = SweepAsync(), null, period, period);
    }

    private void StopExpiry() => _expiryTimer?.Dispose();

    private async Task SweepAsync()
    {
        if (Interlocked.Exchange(ref _expiryRunning, 1) != 0) return; // the last sweep is still waiting for the writer
        try
        {
            await ExpireReservationsAsync().ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Key pool {Path}: expiring reservations failed; the next sweep tries again", DatabasePath);
        }
        finally
        {
            Volatile.Write(ref _expiryRunning, 0);
        }
    }
}
