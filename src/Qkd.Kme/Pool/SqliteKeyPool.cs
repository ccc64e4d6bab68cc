using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Qkd.Core.Bits;

namespace Qkd.Kme.Pool;

/// <summary>
/// The durable <see cref="IKeyPool"/>: one SQLite database per KME, WAL mode, every change one transaction, key
/// material sealed with <see cref="KeyMaterialProtector"/> (never stored in the clear), secure_delete on so the pages
/// of delivered keys are zeroed, not just unlinked.
/// </summary>
/// <remarks>
/// <para>Tables: master_keys (keys this KME hands out by enc_keys, in arrival order; taken oldest first, so a delivery
/// deletes a contiguous run of rows and touches few pages), peer_keys (keys whose master is the peer, held for dec_keys,
/// appended in arrival order with an index by key ID for dec_keys), reservations (the peer's enc_keys, by key ID, with the
/// key's block and when it was recorded; kept apart from peer_keys because a reservation can arrive before this end has
/// stored the block), outbox (this KME's own enc_keys reservations until the peer confirms them, one row per enc_keys:
/// see SqliteKeyPool.Reservations.cs), blocks (every block seen, which makes
/// <see cref="Accept"/> idempotent) and stats (the lifetime counters, updated in the same transactions).</para>
/// <para>Concurrency: one connection guarded by a lock. SQLite has a single writer anyway and every operation writes,
/// so a pool of connections would only queue on the database lock instead of ours; one connection also keeps its
/// prepared statements.</para>
/// <para>Group commit: enc_keys, dec_keys and the peer's reservations from concurrent callers are queued and run by one
/// writer in a single transaction, so one fsync serves the whole batch (see SqliteKeyPool.GroupCommit.cs). Each still
/// succeeds or fails on its own, and no caller sees its keys before the transaction deleting them is durable.</para>
/// </remarks>
public sealed partial class SqliteKeyPool : IKeyPool
{
    private const long SchemaVersion = 2;

    private readonly SqliteConnection _db;
    private readonly KeyMaterialProtector _protector;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly int _keyBytes;
    private readonly KeyPoolMetrics _metrics;

    private readonly SqliteCommand _selectBlock;
    private readonly SqliteCommand _insertBlock;
    private readonly SqliteCommand _insertMasterKey;
    private readonly SqliteCommand _insertPeerKey;
    private readonly SqliteCommand _selectOldestMaster;
    private readonly SqliteCommand _deleteMasterUpTo;
    private readonly SqliteCommand _selectPeerKey;
    private readonly SqliteCommand _selectReservedPeerKey;
    private readonly SqliteCommand _deletePeerKey;
    private readonly SqliteCommand _selectReservation;
    private readonly SqliteCommand _insertReservation;
    private readonly SqliteCommand _deleteReservation;
    private readonly SqliteCommand _updateStats;
    private readonly SqliteCommand _insertOutbox;
    private readonly SqliteCommand _deleteOutbox;
    private readonly SqliteCommand _selectBlockStored;

    // Mirrors of what is committed, changed only after a commit succeeds.
    private Counters _counters;
    private long _available;
    private long _held;
    private long _reservations;
    private long _keysDiscarded;
    private long _outbox;
    private bool _disposed;

    public SqliteKeyPool(SqliteKeyPoolOptions options, OperatorKey operatorKey, ILogger<SqliteKeyPool>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(operatorKey);
        ArgumentException.ThrowIfNullOrEmpty(options.DatabasePath);
        ArgumentException.ThrowIfNullOrEmpty(options.LinkId);
        if (options.KeySizeBits < 8 || options.KeySizeBits % 8 != 0 || options.KeySizeBits > 65536)
            throw new ArgumentOutOfRangeException(nameof(options), options.KeySizeBits, "KeySizeBits must be a multiple of 8 between 8 and 65536.");
        if (options.MaxKeyCount < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxKeyCount, "MaxKeyCount must be at least 1.");
        if (options.ReservationExpiry <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(options), options.ReservationExpiry, "ReservationExpiry must be positive.");
        ArgumentNullException.ThrowIfNull(options.TimeProvider);
        if (options.ScrubInterval <= TimeSpan.Zero || options.ScrubEveryBatches < 1)
            throw new ArgumentOutOfRangeException(nameof(options), "ScrubInterval must be positive and ScrubEveryBatches at least 1.");
        if (options.ExpirySweepInterval is { } sweep && sweep <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(options), sweep, "ExpirySweepInterval must be positive.");

        Options = options;
        DatabasePath = Path.GetFullPath(options.DatabasePath);
        _keyBytes = options.KeySizeBits / 8;
        _logger = logger ?? (ILogger)NullLogger.Instance;

        CreateFileReadableByOwnerOnly(DatabasePath);
        _db = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            // Dispose must really close the file (restart, tests, a second process inspecting the store).
            Pooling = false,
            DefaultTimeout = Math.Max(1, (int)options.BusyTimeout.TotalSeconds),
        }.ToString());
        try
        {
            _db.Open();
            ConfigureConnection(options);
            byte[] salt = CreateOrCheckSchema(options, operatorKey, out byte[] check, out bool created);
            _protector = new KeyMaterialProtector(operatorKey, salt);
            if (!_protector.Verifies(check))
            {
                _protector.Dispose();
                throw new OperatorKeyException(
                    $"Key pool {DatabasePath}: the operator key from {operatorKey.Source} is not the key this store was created with " +
                    "(its verification record fails authentication). Start with the right key; nothing was read or changed.");
            }
            try
            {
                OpenLedger(salt, created);
            }
            catch
            {
                _protector.Dispose();
                throw;
            }
        }
        catch (SqliteException e)
        {
            _db.Dispose();
            throw NamingThePath(e);
        }
        catch
        {
            _db.Dispose();
            throw;
        }

        _selectBlock = Command("SELECT key_bits FROM blocks WHERE block_id = $b", "$b");
        _insertBlock = Command(
            "INSERT INTO blocks(block_id, key_bits, keys_stored, keys_dropped, remainder_bits) VALUES ($b, $bits, $stored, $dropped, $rem)",
            "$b", "$bits", "$stored", "$dropped", "$rem");
        _insertMasterKey = Command("INSERT INTO master_keys(key_id, block_id, sealed, key_index) VALUES ($id, $b, $s, $i)", "$id", "$b", "$s", "$i");
        _insertPeerKey = Command("INSERT INTO peer_keys(key_id, block_id, sealed, key_index) VALUES ($id, $b, $s, $i)", "$id", "$b", "$s", "$i");
        // Oldest first, read lazily (rowid order, no sort): a refused row is skipped and the next one read.
        _selectOldestMaster = Command("SELECT seq, key_id, block_id, sealed, key_index FROM master_keys ORDER BY seq");
        _deleteMasterUpTo = Command("DELETE FROM master_keys WHERE seq <= $seq", "$seq");
        _selectPeerKey = Command("SELECT block_id, sealed FROM peer_keys WHERE key_id = $id", "$id");
        _selectReservedPeerKey = Command(
            "SELECT r.master_sae, r.slave_sae, p.block_id, p.sealed, p.key_index, r.recorded_at FROM reservations r LEFT JOIN peer_keys p ON p.key_id = r.key_id WHERE r.key_id = $id", "$id");
        _deletePeerKey = Command("DELETE FROM peer_keys WHERE key_id = $id", "$id");
        _selectReservation = Command("SELECT master_sae, slave_sae FROM reservations WHERE key_id = $id", "$id");
        _insertReservation = Command("INSERT INTO reservations(key_id, master_sae, slave_sae, block_id, recorded_at) VALUES ($id, $m, $s, $b, $t)",
            "$id", "$m", "$s", "$b", "$t");
        _deleteReservation = Command("DELETE FROM reservations WHERE key_id = $id", "$id");
        _updateStats = Command(
            "UPDATE stats SET blocks_stored = blocks_stored + $a, blocks_duplicate = blocks_duplicate + $b, " +
            "blocks_dropped_full = blocks_dropped_full + $c, keys_stored = keys_stored + $d, keys_dropped_full = keys_dropped_full + $e, " +
            "remainder_bits_dropped = remainder_bits_dropped + $f, delivered_master = delivered_master + $g, " +
            "delivered_slave = delivered_slave + $h, reservations_recorded = reservations_recorded + $i, " +
            "keys_expired = keys_expired + $j, reservations_expired = reservations_expired + $k WHERE id = 1",
            "$a", "$b", "$c", "$d", "$e", "$f", "$g", "$h", "$i", "$j", "$k");
        _insertOutbox = Command("INSERT INTO outbox(first_key, master_sae, slave_sae, keys, taken_at) VALUES ($k, $m, $s, $keys, $t)",
            "$k", "$m", "$s", "$keys", "$t");
        _deleteOutbox = Command("DELETE FROM outbox WHERE first_key = $k", "$k");
        _selectBlockStored = Command("SELECT keys_stored FROM blocks WHERE block_id = $b", "$b");

        LoadMirrors();
        _metrics = new KeyPoolMetrics(this, options.LinkId, options.Role);
        StartWriter();
        StartExpiry();
        var stats = Statistics;
        if (!stats.IsConsistent)
            _logger.LogError("Key pool {Path}: counters disagree with the rows present ({Stats}); keys may have been removed outside the node", DatabasePath, stats);
        _logger.LogInformation(
            "Key pool {Path} open for link {LinkId} as {Role}: {Available} keys available as master, {Held} held for the peer, {Pending} peer reservations pending, " +
            "{Outbox} of its own reservations to confirm with the peer; reservations expire after {Expiry}",
            DatabasePath, options.LinkId, options.Role, _available, _held, _reservations, _outbox, options.ReservationExpiry);
    }

    public SqliteKeyPoolOptions Options { get; }

    public string DatabasePath { get; }

    public KmeRole Role => Options.Role;

    public int KeySizeBits => Options.KeySizeBits;

    public long MaxKeyCount => Options.MaxKeyCount;

    public long AvailableAsMaster
    {
        get { lock (_gate) return _available; }
    }

    public long HeldForPeer
    {
        get { lock (_gate) return _held; }
    }

    public KeyPoolStatistics Statistics
    {
        get
        {
            lock (_gate)
            {
                var c = _counters;
                return new KeyPoolStatistics(_available, _held, _reservations, MaxKeyCount, c.BlocksStored, c.BlocksDuplicate,
                    c.BlocksDroppedFull, c.KeysStored, c.KeysDroppedFull, c.RemainderBitsDropped, c.DeliveredMaster,
                    c.DeliveredSlave, c.ReservationsRecorded, _keysDiscarded, c.KeysExpired, c.ReservationsExpired, _outbox);
            }
        }
    }

    /// <summary>True when block <paramref name="blockId"/> has been accepted (stored, or dropped because the pool was full).</summary>
    public bool HasBlock(long blockId)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            _selectBlock.Transaction = null;
            _selectBlock.Parameters[0].Value = blockId;
            return _selectBlock.ExecuteScalar() is not null;
        }
    }

    /// <summary>The blocks this pool has accepted (stored, or dropped because it was full), by block ID.</summary>
    public IReadOnlyList<long> StoredBlockIds()
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            using var cmd = _db.CreateCommand();
            cmd.CommandText = "SELECT block_id FROM blocks ORDER BY block_id";
            using var reader = cmd.ExecuteReader();
            var ids = new List<long>();
            while (reader.Read()) ids.Add(reader.GetInt64(0));
            return ids;
        }
    }

    /// <summary>
    /// Removes these blocks and every key of theirs not yet delivered (rows deleted; secure_delete zeroes the pages), in
    /// one transaction: what the session handshake does with blocks the peer never stored, so both pools agree. Keys of
    /// such a block already delivered cannot be taken back; they are only counted as gone. Returns the keys removed.
    /// </summary>
    public long DiscardBlocks(IReadOnlyCollection<long> blockIds)
    {
        try
        {
            return DiscardStoredBlocks(blockIds);
        }
        catch (SqliteException e)
        {
            throw NamingThePath(e);
        }
    }

    private long DiscardStoredBlocks(IReadOnlyCollection<long> blockIds)
    {
        ArgumentNullException.ThrowIfNull(blockIds);
        lock (_gate)
        {
            ThrowIfDisposed();
            using var tx = _db.BeginTransaction();
            long master = 0, peer = 0, reservations = 0;
            foreach (long block in blockIds)
            {
                master += Convert.ToInt64(Scalar($"SELECT COUNT(*) FROM master_keys WHERE block_id = {block}", tx));
                peer += Convert.ToInt64(Scalar($"SELECT COUNT(*) FROM peer_keys WHERE block_id = {block}", tx));
                // A reservation names its block (or, recorded before blocks were sent along, is found through its key).
                const string ofBlock = "block_id = {0} OR key_id IN (SELECT key_id FROM peer_keys WHERE block_id = {0})";
                reservations += Convert.ToInt64(Scalar($"SELECT COUNT(*) FROM reservations WHERE {string.Format(ofBlock, block)}", tx));
                Execute($"DELETE FROM reservations WHERE {string.Format(ofBlock, block)}", tx);
                Execute($"DELETE FROM master_keys WHERE block_id = {block}", tx);
                Execute($"DELETE FROM peer_keys WHERE block_id = {block}", tx);
                Execute($"DELETE FROM blocks WHERE block_id = {block}", tx);
            }
            Execute($"UPDATE stats SET keys_discarded = keys_discarded + {master + peer} WHERE id = 1", tx);
            bool consumed = BeforeCommit(tx, new MirrorChange { Available = -master, Held = -peer });
            tx.Commit();
            AfterCommit(consumed);
            if (consumed) Scrub();
            _available -= master;
            _held -= peer;
            _reservations -= reservations;
            _keysDiscarded += master + peer;
            if (master + peer > 0)
                _logger.LogWarning("Key pool {Path}: discarded {Blocks} block(s), {Keys} undelivered keys (the peer does not hold them)", DatabasePath, blockIds.Count, master + peer);
            return master + peer;
        }
    }

    /// <summary>Keys reserved by the peer's enc_keys and still waiting for dec_keys, per slave SAE (present or not yet stored).</summary>
    public IReadOnlyDictionary<string, long> PendingReservationsBySlaveSae()
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            using var cmd = _db.CreateCommand();
            cmd.CommandText = "SELECT slave_sae, COUNT(*) FROM reservations GROUP BY slave_sae";
            using var reader = cmd.ExecuteReader();
            var result = new Dictionary<string, long>(StringComparer.Ordinal);
            while (reader.Read()) result[reader.GetString(0)] = reader.GetInt64(1);
            return result;
        }
    }

    public void Accept(long blockId, PackedBits key)
    {
        try
        {
            AcceptBlock(blockId, key);
        }
        catch (SqliteException e)
        {
            throw NamingThePath(e);
        }
    }

    private void AcceptBlock(long blockId, PackedBits key)
    {
        ArgumentNullException.ThrowIfNull(key);
        long keyCountLong = key.Length / KeySizeBits;
        long remainderBits = key.Length % KeySizeBits;
        if (keyCountLong > int.MaxValue)
            throw new ArgumentException($"Block {blockId} holds {keyCountLong} keys, more than one block may hold.", nameof(key));
        int keyCount = (int)keyCountLong;

        lock (_gate)
        {
            ThrowIfDisposed();
            _selectBlock.Transaction = null;
            _selectBlock.Parameters[0].Value = blockId;
            if (_selectBlock.ExecuteScalar() is long storedBits)
            {
                if (storedBits != key.Length)
                    throw new InvalidOperationException(
                        $"Key pool {DatabasePath}: block {blockId} is already stored with {storedBits} bits and is offered again with {key.Length}; " +
                        "a block is stored once and never replaced. Nothing was changed.");
                // A distiller retrying after a crash: the keys are already here, storing them again would duplicate them.
                var duplicate = new Counters { BlocksDuplicate = 1 };
                using (var tx = _db.BeginTransaction())
                {
                    UpdateStats(tx, duplicate);
                    tx.Commit();
                }
                _counters.Add(duplicate);
                _logger.LogInformation("Key pool: block {BlockId} offered again; already stored, ignored", blockId);
                return;
            }

            if (_available + _held + keyCount > MaxKeyCount)
            {
                var dropped = new Counters { BlocksDroppedFull = 1, KeysDroppedFull = keyCount, RemainderBitsDropped = remainderBits };
                using (var tx = _db.BeginTransaction())
                {
                    InsertBlock(tx, blockId, key.Length, stored: 0, dropped: keyCount, remainderBits);
                    UpdateStats(tx, dropped);
                    tx.Commit();
                }
                _counters.Add(dropped);
                _logger.LogWarning(
                    "Key pool full ({Held} of {Max} keys): block {BlockId} with {Count} keys dropped. Tell the peer, or its pool will hold keys this end lacks",
                    _available + _held, MaxKeyCount, blockId, keyCount);
                return;
            }

            byte[] bytes = key.ToBytes();
            byte[] keyId = new byte[16];
            byte[] sealedKey = new byte[KeyMaterialProtector.SealedLength(_keyBytes)];
            int mine = 0;
            try
            {
                using var tx = _db.BeginTransaction();
                _insertMasterKey.Transaction = tx;
                _insertPeerKey.Transaction = tx;
                _insertMasterKey.Parameters[0].Value = keyId;
                _insertPeerKey.Parameters[0].Value = keyId;
                _insertMasterKey.Parameters[1].Value = blockId;
                _insertPeerKey.Parameters[1].Value = blockId;
                _insertMasterKey.Parameters[2].Value = sealedKey;
                _insertPeerKey.Parameters[2].Value = sealedKey;
                for (int i = 0; i < keyCount; i++)
                {
                    var id = KeyIds.For(Options.LinkId, blockId, i);
                    _insertMasterKey.Parameters[3].Value = i;
                    _insertPeerKey.Parameters[3].Value = i;
                    id.TryWriteBytes(keyId, bigEndian: true, out _);
                    _protector.Seal(id, blockId, bytes.AsSpan(i * _keyBytes, _keyBytes), sealedKey);
                    if (KeyIds.MasterOf(i) == Role)
                    {
                        _insertMasterKey.ExecuteNonQuery();
                        mine++;
                    }
                    else
                    {
                        _insertPeerKey.ExecuteNonQuery();
                    }
                }
                InsertBlock(tx, blockId, key.Length, stored: keyCount, dropped: 0, remainderBits);
                var stored = new Counters { BlocksStored = 1, KeysStored = keyCount, RemainderBitsDropped = remainderBits };
                UpdateStats(tx, stored);
                tx.Commit();
                _counters.Add(stored);
                _available += mine;
                _held += keyCount - mine;
            }
            finally
            {
                CryptographicOperations.ZeroMemory(bytes);
            }
            _logger.LogDebug("Key pool: block {BlockId} stored, {Count} keys ({Mine} as master), {Remainder} trailing bits dropped",
                blockId, keyCount, mine, remainderBits);
        }
    }

    public IReadOnlyList<DeliveredKey> TakeAsMaster(string masterSaeId, string slaveSaeId, int count) =>
        TakeAsMasterAsync(masterSaeId, slaveSaeId, count).GetAwaiter().GetResult();

    public void RecordPeerReservation(string masterSaeId, string slaveSaeId, IReadOnlyList<Guid> keyIds) =>
        RecordPeerReservationAsync(masterSaeId, slaveSaeId, keyIds).GetAwaiter().GetResult();

    public IReadOnlyList<DeliveredKey> TakeAsSlave(string masterSaeId, string slaveSaeId, IReadOnlyList<Guid> keyIds) =>
        TakeAsSlaveAsync(masterSaeId, slaveSaeId, keyIds).GetAwaiter().GetResult();

    public async ValueTask<IReadOnlyList<DeliveredKey>> TakeAsMasterAsync(string masterSaeId, string slaveSaeId, int count)
    {
        ArgumentException.ThrowIfNullOrEmpty(masterSaeId);
        ArgumentException.ThrowIfNullOrEmpty(slaveSaeId);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);

        var keys = await WriteAsync((SqliteTransaction tx, long available, out MirrorChange change) =>
                StageTakeAsMaster(tx, available, masterSaeId, slaveSaeId, count, out change), ZeroiseKeys)
            .ConfigureAwait(false);
        _logger.LogDebug("Key pool: {Count} keys delivered as master to SAE {Master}, reserved for SAE {Slave}", count, masterSaeId, slaveSaeId);
        return keys;
    }

    public ValueTask RecordPeerReservationAsync(string masterSaeId, string slaveSaeId, IReadOnlyList<Guid> keyIds)
    {
        ArgumentNullException.ThrowIfNull(keyIds);
        var keys = new ReservedKey[keyIds.Count];
        for (int i = 0; i < keys.Length; i++) keys[i] = new ReservedKey(keyIds[i], null);
        return RecordPeerReservationAsync(masterSaeId, slaveSaeId, keys);
    }

    public async ValueTask RecordPeerReservationAsync(string masterSaeId, string slaveSaeId, IReadOnlyList<ReservedKey> keys)
    {
        ArgumentException.ThrowIfNullOrEmpty(masterSaeId);
        ArgumentException.ThrowIfNullOrEmpty(slaveSaeId);
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0) return;

        await WriteAsync((SqliteTransaction tx, long _, out MirrorChange change) => StagePeerReservation(tx, masterSaeId, slaveSaeId, keys, out change))
            .ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<DeliveredKey>> TakeAsSlaveAsync(string masterSaeId, string slaveSaeId, IReadOnlyList<Guid> keyIds)
    {
        ArgumentException.ThrowIfNullOrEmpty(masterSaeId);
        ArgumentException.ThrowIfNullOrEmpty(slaveSaeId);
        ArgumentNullException.ThrowIfNull(keyIds);
        if (keyIds.Count == 0) throw new ArgumentException("dec_keys needs at least one key ID.", nameof(keyIds));
        if (keyIds.Count > 1)
        {
            var seen = new HashSet<Guid>(keyIds.Count);
            foreach (var id in keyIds)
                if (!seen.Add(id)) throw new ArgumentException($"Key ID {id} appears twice in one request.", nameof(keyIds));
        }

        var keys = await WriteAsync((SqliteTransaction tx, long _, out MirrorChange change) => StageTakeAsSlave(tx, masterSaeId, slaveSaeId, keyIds, out change), ZeroiseKeys)
            .ConfigureAwait(false);
        _logger.LogDebug("Key pool: {Count} keys delivered as slave to SAE {Slave} (master SAE {Master})", keys.Count, slaveSaeId, masterSaeId);
        return keys;
    }

    private static void ZeroiseKeys(IReadOnlyList<DeliveredKey> keys)
    {
        foreach (var k in keys) CryptographicOperations.ZeroMemory(k.Key);
    }

    // The stages below refuse (throw) only before their first write, so a refused operation leaves nothing to roll back
    // and the others in its batch go on (SqliteKeyPool.GroupCommit.cs checks this and fails the batch if one did not).

    /// <summary>
    /// enc_keys inside a write batch: the oldest <paramref name="count"/> master keys, deleted, and the reservation put
    /// in the outbox (not yet committed).
    /// </summary>
    private IReadOnlyList<DeliveredKey> StageTakeAsMaster(SqliteTransaction tx, long available, string masterSaeId, string slaveSaeId, int count, out MirrorChange change)
    {
        if (count > available) throw new KeyPoolExhaustedException(count, available);

        var keys = new List<DeliveredKey>(count);
        try
        {
            _selectOldestMaster.Transaction = tx;
            long lastSeq = long.MinValue;
            var taken = new List<(long Block, long Index)>(count);
            List<(Guid Id, string Why)>? refused = null;
            using (var reader = _selectOldestMaster.ExecuteReader())
            {
                while (keys.Count < count && reader.Read())
                {
                    lastSeq = reader.GetInt64(0);
                    var id = new Guid((byte[])reader.GetValue(1), bigEndian: true);
                    long blockId = reader.GetInt64(2);
                    long? index = reader.IsDBNull(4) ? null : reader.GetInt64(4);
                    // A refused row is skipped here and deleted with the taken ones below (it lies in their seq range).
                    if (_ledger.Check(tx, id, blockId, index, asMaster: true) is { } why)
                    {
                        (refused ??= []).Add((id, why));
                        continue;
                    }
                    var plain = new byte[_keyBytes];
                    keys.Add(new DeliveredKey(id, plain) { BlockId = blockId });
                    _protector.Open(id, blockId, (byte[])reader.GetValue(3), plain);
                    taken.Add((blockId, index!.Value));
                }
            }
            if (keys.Count != count)
            {
                if (refused is not null) throw new KeyPoolExhaustedException(count, keys.Count);
                throw new InvalidOperationException($"Key pool {DatabasePath}: expected {count} master keys, found {keys.Count}; the store was changed outside this pool.");
            }

            _deleteMasterUpTo.Transaction = tx;
            _deleteMasterUpTo.Parameters[0].Value = lastSeq;
            _deleteMasterUpTo.ExecuteNonQuery();
            foreach (var (blockId, index) in taken) _ledger.MarkConsumed(tx, blockId, index);
            foreach (var (id, why) in refused ?? [])
            {
                _ledger.Refused();
                _logger.LogError("Key pool {Path}: key {KeyId} refused and removed, not delivered: {Reason}", DatabasePath, id, why);
            }
            // The reservation goes out in the same transaction as the take: sent again on every reconnect until the peer has it.
            InsertOutbox(tx, masterSaeId, slaveSaeId, keys);
            change = new MirrorChange { Available = -count - (refused?.Count ?? 0), Outbox = 1, Counters = new Counters { DeliveredMaster = count } };
        }
        catch
        {
            ZeroiseKeys(keys);
            throw;
        }
        return keys;
    }

    /// <summary>
    /// The peer's reservation inside a write batch. Per key: already reserved for the same SAE pair (the peer repeating
    /// itself) or, with its block named, a block stored here whose key is gone (handed out, expired, discarded: a
    /// repeat after the fact) is skipped; reserved for another pair, or of a block this pool dropped when it was full,
    /// refuses the whole reservation; anything else is recorded, stamped with the time (for expiry).
    /// </summary>
    private object? StagePeerReservation(SqliteTransaction tx, string masterSaeId, string slaveSaeId, IReadOnlyList<ReservedKey> keys, out MirrorChange change)
    {
        // Every ID checked before the first insert: a refused reservation writes nothing (the batch relies on it).
        var toInsert = new List<(byte[] Id, long? Block)>(keys.Count);
        HashSet<Guid>? seen = keys.Count > 1 ? new HashSet<Guid>(keys.Count) : null;
        foreach (var (id, block) in keys)
        {
            if (seen is not null && !seen.Add(id)) continue;
            var idBytes = id.ToByteArray(bigEndian: true);
            var existing = ReadReservation(tx, idBytes);
            if (existing is { } r)
            {
                if (r.Master == masterSaeId && r.Slave == slaveSaeId) continue; // the peer repeating itself after a reconnect
                throw new ReservationRefusedException(
                    $"Key {id} is already reserved for another SAE pair; the peer's reservation for master SAE {masterSaeId} / slave SAE {slaveSaeId} is refused. Nothing was recorded.");
            }
            if (block is { } blockId && !PeerKeyStored(tx, idBytes))
            {
                _selectBlockStored.Transaction = tx;
                _selectBlockStored.Parameters[0].Value = blockId;
                if (_selectBlockStored.ExecuteScalar() is long stored)
                {
                    if (stored == 0)
                        throw new ReservationRefusedException(
                            $"Key {id} belongs to block {blockId}, which this KME dropped because its pool was full; the reservation is refused. Nothing was recorded.");
                    continue; // stored here once and gone since: delivered, expired or discarded, never brought back
                }
                // The block has not reached this pool yet: recorded, waiting for it (or for expiry).
            }
            toInsert.Add((idBytes, block));
        }
        _insertReservation.Transaction = tx;
        _insertReservation.Parameters[1].Value = masterSaeId;
        _insertReservation.Parameters[2].Value = slaveSaeId;
        _insertReservation.Parameters[4].Value = NowMilliseconds;
        foreach (var (idBytes, block) in toInsert)
        {
            _insertReservation.Parameters[0].Value = idBytes;
            _insertReservation.Parameters[3].Value = block is { } b ? b : DBNull.Value;
            _insertReservation.ExecuteNonQuery();
        }
        change = new MirrorChange { Reservations = toInsert.Count, Counters = new Counters { ReservationsRecorded = toInsert.Count } };
        return null;
    }

    private bool PeerKeyStored(SqliteTransaction tx, byte[] idBytes)
    {
        _selectPeerKey.Transaction = tx;
        _selectPeerKey.Parameters[0].Value = idBytes;
        using var reader = _selectPeerKey.ExecuteReader();
        return reader.Read();
    }

    /// <summary>dec_keys inside a write batch: every key checked first, then all deleted (not yet committed).</summary>
    private IReadOnlyList<DeliveredKey> StageTakeAsSlave(SqliteTransaction tx, string masterSaeId, string slaveSaeId, IReadOnlyList<Guid> keyIds, out MirrorChange change)
    {
        var keys = new List<DeliveredKey>(keyIds.Count);
        try
        {
            var rows = new List<(byte[] IdBytes, long BlockId, byte[] Sealed, long Index)>(keyIds.Count);
            foreach (var id in keyIds)
            {
                var idBytes = id.ToByteArray(bigEndian: true);
                // The reservation and the key in one lookup; the cases that refuse are told apart only when one does.
                _selectReservedPeerKey.Transaction = tx;
                _selectReservedPeerKey.Parameters[0].Value = idBytes;
                (string Master, string Slave)? reservation = null;
                long blockId = 0, recordedAt = 0;
                long? index = null;
                byte[]? sealedKey = null;
                using (var reader = _selectReservedPeerKey.ExecuteReader())
                {
                    if (reader.Read())
                    {
                        reservation = (reader.GetString(0), reader.GetString(1));
                        recordedAt = reader.GetInt64(5);
                        if (!reader.IsDBNull(2))
                        {
                            blockId = reader.GetInt64(2);
                            sealedKey = (byte[])reader.GetValue(3);
                            index = reader.IsDBNull(4) ? null : reader.GetInt64(4);
                        }
                    }
                }

                if (reservation is null)
                    throw new KeyNotFoundException(!PeerKeyStored(tx, idBytes)
                        ? $"Key {id} is unknown to this KME or already delivered."
                        : $"Key {id} is not (yet) reserved for SAE {slaveSaeId}: the master's reservation has not reached this KME.");
                if (reservation.Value.Master != masterSaeId || reservation.Value.Slave != slaveSaeId)
                    throw new KeyNotFoundException($"Key {id} is not reserved for SAE {slaveSaeId} by master SAE {masterSaeId}.");
                if (recordedAt <= ExpiredBefore)
                    throw new KeyNotFoundException($"Key {id} was reserved for SAE {slaveSaeId} longer ago than the reservation expiry ({Options.ReservationExpiry}) and has expired.");
                if (sealedKey is null)
                    throw new KeyNotFoundException($"Key {id} is reserved for SAE {slaveSaeId} but not yet stored at this KME (its block has not been distilled here yet).");
                if (_ledger.Check(tx, id, blockId, index, asMaster: false) is { } why)
                {
                    _ledger.Refused();
                    _logger.LogError("Key pool {Path}: key {KeyId} refused, not delivered: {Reason}", DatabasePath, id, why);
                    throw new KeyNotFoundException($"Key {id} is refused: {why}.");
                }
                rows.Add((idBytes, blockId, sealedKey, index!.Value));
            }

            for (int i = 0; i < rows.Count; i++)
            {
                var plain = new byte[_keyBytes];
                keys.Add(new DeliveredKey(keyIds[i], plain));
                _protector.Open(keyIds[i], rows[i].BlockId, rows[i].Sealed, plain);
            }
            _deletePeerKey.Transaction = tx;
            _deleteReservation.Transaction = tx;
            foreach (var row in rows)
            {
                _deletePeerKey.Parameters[0].Value = row.IdBytes;
                _deletePeerKey.ExecuteNonQuery();
                _deleteReservation.Parameters[0].Value = row.IdBytes;
                _deleteReservation.ExecuteNonQuery();
                _ledger.MarkConsumed(tx, row.BlockId, row.Index);
            }
            change = new MirrorChange { Held = -rows.Count, Reservations = -rows.Count, Counters = new Counters { DeliveredSlave = rows.Count } };
        }
        catch
        {
            ZeroiseKeys(keys);
            throw;
        }
        return keys;
    }


    public void Dispose()
    {
        StopExpiry();
        StopWriter();
        lock (_gate)
        {
            if (_disposed) return;
            ScrubOnClose();
            _disposed = true;
            _metrics.Dispose();
            _ledger.Dispose();
            _updateGeneration.Dispose();
            _generationFile.Dispose();
            foreach (var cmd in new[]
                     {
                         _selectBlock, _insertBlock, _insertMasterKey, _insertPeerKey, _selectOldestMaster, _deleteMasterUpTo,
                         _selectPeerKey, _selectReservedPeerKey, _deletePeerKey, _selectReservation, _insertReservation, _deleteReservation,
                         _updateStats, _insertOutbox, _deleteOutbox, _selectBlockStored,
                     })
                cmd.Dispose();
            _db.Dispose();
            _protector.Dispose();
        }
    }

    /// <summary>Every key present with its bytes, for the crash and agreement tests only (never exposed to applications).</summary>
    internal IReadOnlyList<AuditedKey> ReadAllForAudit()
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            var result = new List<AuditedKey>();
            using var cmd = _db.CreateCommand();
            cmd.CommandText =
                "SELECT key_id, block_id, sealed, 1 FROM master_keys UNION ALL SELECT key_id, block_id, sealed, 0 FROM peer_keys";
            using var reader = cmd.ExecuteReader();
            while (reader.Read())
            {
                var id = new Guid((byte[])reader.GetValue(0), bigEndian: true);
                var plain = new byte[_keyBytes];
                _protector.Open(id, reader.GetInt64(1), (byte[])reader.GetValue(2), plain);
                result.Add(new AuditedKey(id, reader.GetInt64(1), reader.GetInt64(3) == 1, plain));
            }
            return result;
        }
    }

    internal sealed record AuditedKey(Guid Id, long BlockId, bool IsMaster, byte[] Key);

    private static void CreateFileReadableByOwnerOnly(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (File.Exists(path) || OperatingSystem.IsWindows()) return;
        // SQLite gives the -wal and -shm files the database file's mode, so this covers all three.
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        };
        try
        {
            using var _ = new FileStream(path, options);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Created by someone else in between: fine, it is opened below.
        }
    }

    private void ConfigureConnection(SqliteKeyPoolOptions options)
    {
        string journal = Scalar("PRAGMA journal_mode = WAL") as string ?? "";
        if (!journal.Equals("wal", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"Key pool {DatabasePath}: SQLite refused WAL mode (journal_mode is {journal}).");
        Execute(options.Durability == KeyPoolDurability.Full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
        Execute("PRAGMA secure_delete = ON");
        // Key IDs are hashes, so reservations and dec_keys touch index pages at random: a page cache of 64 MiB (the
        // default is 2 MiB) keeps them in memory instead of reading them back from the OS at every operation.
        Execute("PRAGMA cache_size = -65536");
        // The pool checkpoints itself (truncating, SqliteKeyPool.Scrub.cs: at most ScrubInterval apart under load); SQLite's
        // own checkpoint after every 1,000 pages of log would run inside a commit several times a second. It stays as a
        // bound on the -wal file's size (32 MiB) should the pool's checkpoints be held up.
        Execute("PRAGMA wal_autocheckpoint = 8192");
        Execute($"PRAGMA busy_timeout = {(long)options.BusyTimeout.TotalMilliseconds}");
    }

    private byte[] CreateOrCheckSchema(SqliteKeyPoolOptions options, OperatorKey operatorKey, out byte[] check, out bool created)
    {
        created = false;
        using var tx = _db.BeginTransaction();
        Execute("""
            CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS blocks (block_id INTEGER PRIMARY KEY, key_bits INTEGER NOT NULL, keys_stored INTEGER NOT NULL,
                keys_dropped INTEGER NOT NULL, remainder_bits INTEGER NOT NULL, consumed BLOB);
            CREATE TABLE IF NOT EXISTS master_keys (seq INTEGER PRIMARY KEY, key_id BLOB NOT NULL, block_id INTEGER NOT NULL, sealed BLOB NOT NULL, key_index INTEGER);
            CREATE TABLE IF NOT EXISTS peer_keys (seq INTEGER PRIMARY KEY, key_id BLOB NOT NULL, block_id INTEGER NOT NULL, sealed BLOB NOT NULL, key_index INTEGER);
            CREATE UNIQUE INDEX IF NOT EXISTS peer_keys_by_id ON peer_keys (key_id);
            CREATE TABLE IF NOT EXISTS reservations (key_id BLOB PRIMARY KEY, master_sae TEXT NOT NULL, slave_sae TEXT NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS stats (id INTEGER PRIMARY KEY CHECK (id = 1), blocks_stored INTEGER NOT NULL DEFAULT 0,
                blocks_duplicate INTEGER NOT NULL DEFAULT 0, blocks_dropped_full INTEGER NOT NULL DEFAULT 0, keys_stored INTEGER NOT NULL DEFAULT 0,
                keys_dropped_full INTEGER NOT NULL DEFAULT 0, remainder_bits_dropped INTEGER NOT NULL DEFAULT 0,
                delivered_master INTEGER NOT NULL DEFAULT 0, delivered_slave INTEGER NOT NULL DEFAULT 0,
                reservations_recorded INTEGER NOT NULL DEFAULT 0);
            """, tx);
        // Added with the session handshake: keys discarded because the peer never stored their block.
        AddColumnIfMissing(tx, "stats", "keys_discarded", "INTEGER NOT NULL DEFAULT 0");
        // Added with the reservation outbox and expiry: reservations name their block and when they were recorded
        // (those from before count from now), this KME's own reservations wait in the outbox until the peer confirms.
        AddColumnIfMissing(tx, "stats", "keys_expired", "INTEGER NOT NULL DEFAULT 0");
        AddColumnIfMissing(tx, "stats", "reservations_expired", "INTEGER NOT NULL DEFAULT 0");
        AddColumnIfMissing(tx, "reservations", "block_id", "INTEGER");
        if (AddColumnIfMissing(tx, "reservations", "recorded_at", "INTEGER NOT NULL DEFAULT 0"))
            Execute($"UPDATE reservations SET recorded_at = {NowMilliseconds}", tx);
        Execute("""
            CREATE TABLE IF NOT EXISTS outbox (first_key BLOB PRIMARY KEY, master_sae TEXT NOT NULL, slave_sae TEXT NOT NULL,
                keys BLOB NOT NULL, taken_at INTEGER NOT NULL) WITHOUT ROWID;
            """, tx);

        var meta = new Dictionary<string, object>(StringComparer.Ordinal);
        using (var cmd = _db.CreateCommand())
        {
            cmd.Transaction = tx;
            cmd.CommandText = "SELECT name, value FROM meta";
            using var reader = cmd.ExecuteReader();
            while (reader.Read()) meta[reader.GetString(0)] = reader.GetValue(1);
        }

        if (meta.Count == 0)
        {
            byte[] salt = RandomNumberGenerator.GetBytes(KeyMaterialProtector.SaltBytes);
            using var protector = new KeyMaterialProtector(operatorKey, salt);
            check = protector.CreateVerificationRecord();
            InsertMeta(tx, "schema_version", SchemaVersion);
            InsertMeta(tx, "link_id", options.LinkId);
            InsertMeta(tx, "role", options.Role.ToString());
            InsertMeta(tx, "key_size_bits", (long)options.KeySizeBits);
            InsertMeta(tx, "salt", salt);
            InsertMeta(tx, "operator_key_check", check);
            InsertMeta(tx, "generation", 0L);
            Execute("INSERT INTO stats(id) VALUES (1)", tx);
            tx.Commit();
            created = true;
            _logger.LogInformation("Key pool {Path} created for link {LinkId} as {Role}, {KeySize}-bit keys", DatabasePath, options.LinkId, options.Role, options.KeySizeBits);
            return salt;
        }

        object Get(string name) => meta.TryGetValue(name, out var v)
            ? v
            : throw new InvalidOperationException($"Key pool {DatabasePath} lacks its '{name}' record: not a key pool of this node, or damaged.");
        if (Get("schema_version") is not long version || version is not (1 or SchemaVersion))
            throw new InvalidOperationException($"Key pool {DatabasePath} has schema version {Get("schema_version")}; this node reads version {SchemaVersion}.");
        if (Get("link_id") is not string linkId || linkId != options.LinkId)
            throw new InvalidOperationException($"Key pool {DatabasePath} belongs to link '{Get("link_id")}', not '{options.LinkId}'.");
        if (Get("role") is not string role || role != options.Role.ToString())
            throw new InvalidOperationException($"Key pool {DatabasePath} was created for the {Get("role")} end, not {options.Role}.");
        if (Get("key_size_bits") is not long size || size != options.KeySizeBits)
            throw new InvalidOperationException($"Key pool {DatabasePath} holds {Get("key_size_bits")}-bit keys; the configuration asks for {options.KeySizeBits}. The key size is fixed when a store is created.");
        check = Get("operator_key_check") as byte[] ?? throw new InvalidOperationException($"Key pool {DatabasePath}: damaged operator key check record.");
        var storedSalt = Get("salt") as byte[] ?? throw new InvalidOperationException($"Key pool {DatabasePath}: damaged salt record.");
        if (version == 1) MigrateFromSchema1(tx);
        tx.Commit();
        return storedSalt;
    }

    /// <summary>Adds a column a store created by an earlier version lacks; true when it was added.</summary>
    private bool AddColumnIfMissing(SqliteTransaction tx, string table, string column, string definition)
    {
        if (Convert.ToInt64(Scalar($"SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = '{column}'", tx)) != 0) return false;
        Execute($"ALTER TABLE {table} ADD COLUMN {column} {definition}", tx);
        return true;
    }

    private void LoadMirrors()
    {
        _available = (long)Scalar("SELECT COUNT(*) FROM master_keys")!;
        _held = (long)Scalar("SELECT COUNT(*) FROM peer_keys")!;
        _reservations = (long)Scalar("SELECT COUNT(*) FROM reservations")!;
        _outbox = (long)Scalar("SELECT COUNT(*) FROM outbox")!;
        using var cmd = _db.CreateCommand();
        cmd.CommandText = "SELECT blocks_stored, blocks_duplicate, blocks_dropped_full, keys_stored, keys_dropped_full, " +
                          "remainder_bits_dropped, delivered_master, delivered_slave, reservations_recorded, keys_expired, reservations_expired FROM stats WHERE id = 1";
        using var reader = cmd.ExecuteReader();
        if (!reader.Read()) throw new InvalidOperationException($"Key pool {DatabasePath} lacks its counters row: damaged.");
        _counters = new Counters
        {
            BlocksStored = reader.GetInt64(0), BlocksDuplicate = reader.GetInt64(1), BlocksDroppedFull = reader.GetInt64(2),
            KeysStored = reader.GetInt64(3), KeysDroppedFull = reader.GetInt64(4), RemainderBitsDropped = reader.GetInt64(5),
            DeliveredMaster = reader.GetInt64(6), DeliveredSlave = reader.GetInt64(7), ReservationsRecorded = reader.GetInt64(8),
            KeysExpired = reader.GetInt64(9), ReservationsExpired = reader.GetInt64(10),
        };
        _keysDiscarded = Convert.ToInt64(Scalar("SELECT keys_discarded FROM stats WHERE id = 1"));
    }

    private (string Master, string Slave)? ReadReservation(SqliteTransaction tx, byte[] idBytes)
    {
        _selectReservation.Transaction = tx;
        _selectReservation.Parameters[0].Value = idBytes;
        using var reader = _selectReservation.ExecuteReader();
        return reader.Read() ? (reader.GetString(0), reader.GetString(1)) : null;
    }

    private void InsertBlock(SqliteTransaction tx, long blockId, long bits, long stored, long dropped, long remainder)
    {
        _insertBlock.Transaction = tx;
        _insertBlock.Parameters[0].Value = blockId;
        _insertBlock.Parameters[1].Value = bits;
        _insertBlock.Parameters[2].Value = stored;
        _insertBlock.Parameters[3].Value = dropped;
        _insertBlock.Parameters[4].Value = remainder;
        _insertBlock.ExecuteNonQuery();
    }

    private void UpdateStats(SqliteTransaction tx, in Counters d)
    {
        _updateStats.Transaction = tx;
        var p = _updateStats.Parameters;
        p[0].Value = d.BlocksStored;
        p[1].Value = d.BlocksDuplicate;
        p[2].Value = d.BlocksDroppedFull;
        p[3].Value = d.KeysStored;
        p[4].Value = d.KeysDroppedFull;
        p[5].Value = d.RemainderBitsDropped;
        p[6].Value = d.DeliveredMaster;
        p[7].Value = d.DeliveredSlave;
        p[8].Value = d.ReservationsRecorded;
        p[9].Value = d.KeysExpired;
        p[10].Value = d.ReservationsExpired;
        _updateStats.ExecuteNonQuery();
    }

    private void InsertMeta(SqliteTransaction tx, string name, object value)
    {
        using var cmd = _db.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "INSERT INTO meta(name, value) VALUES ($n, $v)";
        cmd.Parameters.AddWithValue("$n", name);
        cmd.Parameters.AddWithValue("$v", value);
        cmd.ExecuteNonQuery();
    }

    private SqliteCommand Command(string sql, params string[] parameters)
    {
        var cmd = _db.CreateCommand();
        cmd.CommandText = sql;
        foreach (var name in parameters) cmd.Parameters.Add(new SqliteParameter { ParameterName = name });
        return cmd;
    }

    private void Execute(string sql, SqliteTransaction? tx = null)
    {
        using var cmd = _db.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private object? Scalar(string sql, SqliteTransaction? tx = null)
    {
        using var cmd = _db.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>SQLite's own messages do not say which file; the operator needs to know (same error code kept).</summary>
    private SqliteException NamingThePath(SqliteException e) =>
        e.Message.Contains(DatabasePath, StringComparison.Ordinal)
            ? e
            : new SqliteException($"Key pool {DatabasePath}: {e.Message}", e.SqliteErrorCode, e.SqliteExtendedErrorCode);

    /// <summary>The lifetime counters (also the deltas one transaction adds to them).</summary>
    private struct Counters
    {
        public long BlocksStored, BlocksDuplicate, BlocksDroppedFull, KeysStored, KeysDroppedFull, RemainderBitsDropped;
        public long DeliveredMaster, DeliveredSlave, ReservationsRecorded, KeysExpired, ReservationsExpired;

        public void Add(in Counters d)
        {
            BlocksStored += d.BlocksStored;
            BlocksDuplicate += d.BlocksDuplicate;
            BlocksDroppedFull += d.BlocksDroppedFull;
            KeysStored += d.KeysStored;
            KeysDroppedFull += d.KeysDroppedFull;
            RemainderBitsDropped += d.RemainderBitsDropped;
            DeliveredMaster += d.DeliveredMaster;
            DeliveredSlave += d.DeliveredSlave;
            ReservationsRecorded += d.ReservationsRecorded;
            KeysExpired += d.KeysExpired;
            ReservationsExpired += d.ReservationsExpired;
        }
    }
}
