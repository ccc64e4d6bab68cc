using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Qkd.Kme.Pool;

/// <summary>
/// The pool's memory of consumed keys, so that nothing put back into the store can be delivered a second time:
/// <list type="bullet">
/// <item>a row copied back into master_keys or peer_keys is refused by the <see cref="DeliveryLedger"/> (its block's
/// consumed bitmap, its index checked against its authenticated key ID, its table against the index's master);</item>
/// <item>a database file put back from an older copy is refused at open by the <see cref="StoreGenerationFile"/>.</item>
/// </list>
/// Also the migration of stores written before the ledger (schema 1: no key_index, no consumed bitmaps).
/// </summary>
public sealed partial class SqliteKeyPool
{
    private DeliveryLedger _ledger = null!;
    private StoreGenerationFile _generationFile = null!;
    private SqliteCommand _updateGeneration = null!;
    private long _generation;          // delivery transactions committed (meta 'generation')
    private bool _migratedNow;         // opened a schema 1 store, which never had a generation file

    /// <summary>Rows refused since the pool opened: copied back after their key was consumed, or not where they belong.</summary>
    public long RowsRefused
    {
        get { lock (_gate) return _ledger.RowsRefused; }
    }

    /// <summary>The delivery generation (transactions that consumed keys), as committed.</summary>
    internal long Generation
    {
        get { lock (_gate) return _generation; }
    }

    /// <summary>The generation file's path (the database's + ".generation" unless configured).</summary>
    public string GenerationFilePath => Options.GenerationFilePath is { } p ? Path.GetFullPath(p) : DatabasePath + ".generation";

    /// <summary>At open, after the schema check: migrate, check the generation file, refuse rows that must not be there.</summary>
    private void OpenLedger(byte[] storeId, bool createdNow)
    {
        _ledger = new DeliveryLedger(_db, Options.LinkId, Options.Role);
        _updateGeneration = Command("UPDATE meta SET value = $g WHERE name = 'generation'", "$g");

        string path = GenerationFilePath;
        if (createdNow && File.Exists(path))
            File.Delete(path); // left by a store that was at this path before: a new store has delivered nothing
        else if (!createdNow && !_migratedNow && !File.Exists(path))
            throw new KeyStoreRolledBackException(
                $"Key pool {DatabasePath}: its generation file {path} is missing, so whether this database is the latest copy cannot be checked " +
                "(keys in an older copy may have been delivered already). Put the file back beside the database, or move both away and start with a fresh store.");
        _generationFile = StoreGenerationFile.Open(path, storeId);
        try
        {
            // Read after the file: a node running on this store records in the file only counts its database already has,
            // so a second reader (`qkd keys status`) never sees the file ahead of a database that is not older.
            _generation = Convert.ToInt64(Scalar("SELECT value FROM meta WHERE name = 'generation'"));
            if (_generation < _generationFile.Generation)
                throw new KeyStoreRolledBackException(
                    $"Key pool {DatabasePath} is older than its generation file {path} (delivery generation {_generation} < {_generationFile.Generation}): " +
                    "the database was put back from an earlier copy, and keys in it may have been delivered already. Nothing was delivered. " +
                    "Never restore a key store from a copy: move it away and start with a fresh store (the session handshake drops the peer's blocks this end lacks).");
            AdvanceGenerationFile();
            RefuseMisplacedRows();
        }
        catch
        {
            _generationFile.Dispose();
            throw;
        }
    }

    /// <summary>Deletes every row the ledger refuses (copied back, altered, or in the wrong table), logging each; one transaction.</summary>
    private void RefuseMisplacedRows()
    {
        // Read without the write lock (a node may be running on this store while `qkd keys status` opens it); only rows
        // to refuse take a write transaction.
        var refused = new List<(string Table, long Seq, Guid Id, string Why)>();
        using (var read = _db.BeginTransaction(deferred: true))
            FindMisplacedRows(read, refused);
        _ledger.Abandon();
        if (refused.Count == 0) return;
        using var tx = _db.BeginTransaction();
        foreach (var (table, seq, id, why) in refused)
        {
            Execute($"DELETE FROM {table} WHERE seq = {seq}", tx);
            _ledger.Refused();
            _logger.LogError("Key pool {Path}: key {KeyId} in {Table} refused and removed: {Reason}", DatabasePath, id, table, why);
        }
        tx.Commit();
        ConsumedCommitted();
    }

    private void FindMisplacedRows(SqliteTransaction tx, List<(string Table, long Seq, Guid Id, string Why)> refused)
    {
        foreach (var (table, asMaster) in new[] { ("master_keys", true), ("peer_keys", false) })
        {
            using var cmd = _db.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = $"SELECT seq, key_id, block_id, key_index FROM {table}";
            using var reader = cmd.ExecuteReader();
            while (reader.Read())
            {
                var id = new Guid((byte[])reader.GetValue(1), bigEndian: true);
                long? index = reader.IsDBNull(3) ? null : reader.GetInt64(3);
                if (_ledger.Check(tx, id, reader.GetInt64(2), index, asMaster) is { } why)
                    refused.Add((table, reader.GetInt64(0), id, why));
            }
        }
    }

    /// <summary>Before a batch commits: its consumed keys marked, the generation counted (true when it consumed keys).</summary>
    private bool BeforeCommit(SqliteTransaction tx, in MirrorChange total)
    {
        _ledger.Flush(tx);
        if (total.Counters.DeliveredMaster + total.Counters.DeliveredSlave == 0 && total.Available >= 0 && total.Held >= 0) return false;
        _updateGeneration.Transaction = tx;
        _updateGeneration.Parameters[0].Value = _generation + 1;
        _updateGeneration.ExecuteNonQuery();
        return true;
    }

    /// <summary>
    /// After that commit: with synchronous=FULL (the commit is durable) the generation file is brought up to it every
    /// <see cref="SqliteKeyPoolOptions.GenerationRecordEvery"/> transactions, before any caller of the transaction sees a
    /// key; scrubs and a clean close record the exact count in between.
    /// </summary>
    private void AfterCommit(bool consumed)
    {
        if (!consumed) return;
        _generation++;
        ConsumedCommitted();
        if (Options.Durability == KeyPoolDurability.Full && _generation - _generationFile.Generation >= Options.GenerationRecordEvery)
            AdvanceGenerationFile();
    }

    private void AdvanceGenerationFile()
    {
        try
        {
            _generationFile.Advance(_generation);
        }
        catch (IOException e)
        {
            throw new IOException($"Key pool {DatabasePath}: the generation file {_generationFile.Path} could not be written: {e.Message}", e);
        }
    }

    /// <summary>Schema 1 to 2: key_index on every key row, a consumed bitmap per block (what is absent was consumed), a generation.</summary>
    private void MigrateFromSchema1(SqliteTransaction tx)
    {
        Execute("ALTER TABLE master_keys ADD COLUMN key_index INTEGER", tx);
        Execute("ALTER TABLE peer_keys ADD COLUMN key_index INTEGER", tx);
        Execute("ALTER TABLE blocks ADD COLUMN consumed BLOB", tx);
        var blocks = new List<(long Block, int Keys)>();
        using (var cmd = _db.CreateCommand())
        {
            cmd.Transaction = tx;
            cmd.CommandText = "SELECT block_id, keys_stored FROM blocks";
            using var reader = cmd.ExecuteReader();
            while (reader.Read()) blocks.Add((reader.GetInt64(0), (int)reader.GetInt64(1)));
        }
        using var find = _db.CreateCommand();
        find.Transaction = tx;
        find.CommandText = "SELECT 1 FROM master_keys WHERE key_id = $id AND block_id = $b UNION ALL SELECT 2 FROM peer_keys WHERE key_id = $id AND block_id = $b";
        var idParameter = find.Parameters.Add("$id", SqliteType.Blob);
        var blockParameter = find.Parameters.Add("$b", SqliteType.Integer);
        using var setMaster = _db.CreateCommand();
        setMaster.Transaction = tx;
        setMaster.CommandText = "UPDATE master_keys SET key_index = $i WHERE key_id = $id";
        using var setPeer = _db.CreateCommand();
        setPeer.Transaction = tx;
        setPeer.CommandText = "UPDATE peer_keys SET key_index = $i WHERE key_id = $id";
        using var setConsumed = _db.CreateCommand();
        setConsumed.Transaction = tx;
        setConsumed.CommandText = "UPDATE blocks SET consumed = $c WHERE block_id = $b";
        foreach (var (block, keys) in blocks)
        {
            var consumed = new List<int>();
            for (int i = 0; i < keys; i++)
            {
                byte[] id = KeyIds.For(Options.LinkId, block, i).ToByteArray(bigEndian: true);
                idParameter.Value = id;
                blockParameter.Value = block;
                var where = find.ExecuteScalar();
                if (where is null)
                {
                    consumed.Add(i);
                    continue;
                }
                var set = (long)where == 1 ? setMaster : setPeer;
                set.Parameters.Clear();
                set.Parameters.AddWithValue("$i", i);
                set.Parameters.AddWithValue("$id", id);
                set.ExecuteNonQuery();
            }
            setConsumed.Parameters.Clear();
            setConsumed.Parameters.AddWithValue("$c", DeliveryLedger.BitmapOf(consumed, keys));
            setConsumed.Parameters.AddWithValue("$b", block);
            setConsumed.ExecuteNonQuery();
        }
        Execute("INSERT INTO meta(name, value) VALUES ('generation', 0)", tx);
        _migratedNow = true;
        Execute($"UPDATE meta SET value = {SchemaVersion} WHERE name = 'schema_version'", tx);
        _logger.LogInformation("Key pool {Path}: migrated to schema {Version} (delivery ledger: consumed keys per block, key indices)", DatabasePath, SchemaVersion);
    }
}
