using Microsoft.Data.Sqlite;
using Qkd.Kme.Pool;

namespace Qkd.Kme.Tests.Pool;

/// <summary>
/// What a consumed key leaves behind in the store's files, and what putting old data back achieves: real SQLite
/// files, read byte by byte after delivery, rows and whole databases copied back from earlier copies.
/// </summary>
public sealed class KeyPoolRemanenceTests : IDisposable
{
    private readonly KeyPoolTestBed _bed = new();

    public void Dispose() => _bed.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Every row of a table as it is stored (sealed bytes included), read through a connection of its own.</summary>
    private static List<(byte[] KeyId, long Block, byte[] Sealed, long Index)> RawRows(string databasePath, string table)
    {
        using var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = false }.ToString());
        db.Open();
        using var cmd = db.CreateCommand();
        cmd.CommandText = $"SELECT key_id, block_id, sealed, key_index FROM {table} ORDER BY seq";
        using var reader = cmd.ExecuteReader();
        var rows = new List<(byte[], long, byte[], long)>();
        while (reader.Read()) rows.Add(((byte[])reader.GetValue(0), reader.GetInt64(1), (byte[])reader.GetValue(2), reader.GetInt64(3)));
        return rows;
    }

    private static void Sql(string databasePath, string sql, params (string Name, object Value)[] parameters)
    {
        using var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = false }.ToString());
        db.Open();
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (name, value) in parameters) cmd.Parameters.AddWithValue(name, value);
        cmd.ExecuteNonQuery();
    }

    /// <summary>How many of <paramref name="needles"/> occur in any file of <paramref name="directory"/>.</summary>
    private static int FoundInFiles(string directory, IEnumerable<byte[]> needles)
    {
        var files = Directory.GetFiles(directory).Select(File.ReadAllBytes).ToList();
        return needles.Count(needle => files.Any(bytes => bytes.AsSpan().IndexOf(needle) >= 0));
    }

    [Fact]
    public async Task After_delivery_no_file_of_the_store_holds_a_delivered_key_plain_or_sealed()
    {
        using var alice = _bed.Open(KmeRole.Alice);
        using var bob = _bed.Open(KmeRole.Bob);
        for (int b = 0; b < 4; b++) KeyPoolTestBed.Feed(b, KeyPoolTestBed.Block(100 + b, keys: 20), alice, bob);
        // The sealed rows as stored, captured before delivery (the ciphertext alone is searched too: no nonce or tag needed).
        var aliceSealed = RawRows(_bed.PathOf(KmeRole.Alice), "master_keys").ToDictionary(r => new Guid(r.KeyId, bigEndian: true), r => r.Sealed);
        var bobSealed = RawRows(_bed.PathOf(KmeRole.Bob), "peer_keys").ToDictionary(r => new Guid(r.KeyId, bigEndian: true), r => r.Sealed);

        var delivered = new List<DeliveredKey>();
        for (int i = 0; i < 4; i++)
        {
            var enc = await alice.TakeAsMasterAsync("sae-a", "sae-b", 8);
            var ids = enc.Select(k => k.Id).ToList();
            await bob.RecordPeerReservationAsync("sae-a", "sae-b", ids);
            var dec = await bob.TakeAsSlaveAsync("sae-a", "sae-b", ids);
            Assert.Equal(enc.Select(k => k.Key), dec.Select(k => k.Key));
            delivered.AddRange(enc);
        }
        Assert.Equal(32, delivered.Count);
        // Keys still held are found in the files (the search works), delivered ones are not, once scrubbed.
        var stillHeld = alice.ReadAllForAudit().Where(k => k.IsMaster).Select(k => k.Key).ToList();
        Assert.NotEmpty(stillHeld);

        await alice.WhenScrubbedAsync().WaitAsync(Ct);
        await bob.WhenScrubbedAsync().WaitAsync(Ct);
        // A passive checkpoint (what the reader ran) must not bring anything back either.
        Sql(_bed.PathOf(KmeRole.Alice), "PRAGMA wal_checkpoint(PASSIVE)");

        var needles = delivered.Select(k => k.Key)
            .Concat(delivered.Select(k => aliceSealed[k.Id]))
            .Concat(delivered.Select(k => aliceSealed[k.Id][KeyMaterialProtector.NonceBytes..^KeyMaterialProtector.TagBytes]))
            .Concat(delivered.Select(k => bobSealed[k.Id]))
            .Concat(delivered.Select(k => bobSealed[k.Id][KeyMaterialProtector.NonceBytes..^KeyMaterialProtector.TagBytes]))
            .ToList();
        Assert.Equal(0, FoundInFiles(_bed.Dir, needles));
        // Control: the rows still held are in the files, sealed.
        var heldSealed = RawRows(_bed.PathOf(KmeRole.Alice), "master_keys").Select(r => r.Sealed).ToList();
        Assert.Equal(heldSealed.Count, FoundInFiles(_bed.Dir, heldSealed));
        Assert.Equal(0, FoundInFiles(_bed.Dir, stillHeld)); // never stored in the clear
    }

    [Fact]
    public async Task A_master_row_copied_back_after_delivery_is_refused_and_removed_not_delivered_again()
    {
        string path = _bed.PathOf(KmeRole.Alice);
        using var alice = _bed.Open(KmeRole.Alice);
        KeyPoolTestBed.Feed(1, KeyPoolTestBed.Block(1, keys: 8), alice);
        var before = RawRows(path, "master_keys"); // indices 0, 2, 4, 6
        var first = await alice.TakeAsMasterAsync("sae-a", "sae-b", 1);
        Assert.Equal(new Guid(before[0].KeyId, bigEndian: true), first[0].Id);

        // The delivered row put back, at the front of the queue, with its original sealed bytes.
        var row = before[0];
        Sql(path, "INSERT INTO master_keys(seq, key_id, block_id, sealed, key_index) VALUES (0, $id, $b, $s, $i)",
            ("$id", row.KeyId), ("$b", row.Block), ("$s", row.Sealed), ("$i", row.Index));

        var next = await alice.TakeAsMasterAsync("sae-a", "sae-b", 1);
        Assert.NotEqual(first[0].Id, next[0].Id);
        Assert.Equal(new Guid(before[1].KeyId, bigEndian: true), next[0].Id);
        Assert.Equal(1, alice.RowsRefused);
        Assert.DoesNotContain(alice.ReadAllForAudit(), k => k.Id == first[0].Id);

        // Put back again with a forged index (an unconsumed one): the index no longer matches the authenticated key ID.
        Sql(path, "INSERT INTO master_keys(seq, key_id, block_id, sealed, key_index) VALUES (0, $id, $b, $s, 6)",
            ("$id", row.KeyId), ("$b", row.Block), ("$s", row.Sealed));
        var third = await alice.TakeAsMasterAsync("sae-a", "sae-b", 1);
        Assert.Equal(new Guid(before[2].KeyId, bigEndian: true), third[0].Id);
        Assert.Equal(2, alice.RowsRefused);
    }

    [Fact]
    public async Task A_peer_row_and_its_reservation_copied_back_after_dec_keys_are_refused()
    {
        string path = _bed.PathOf(KmeRole.Bob);
        using var bob = _bed.Open(KmeRole.Bob);
        KeyPoolTestBed.Feed(3, KeyPoolTestBed.Block(3, keys: 8), bob);
        var before = RawRows(path, "peer_keys"); // Alice's keys: indices 0, 2, 4, 6
        var id = new Guid(before[1].KeyId, bigEndian: true);
        await bob.RecordPeerReservationAsync("sae-a", "sae-b", [id]);
        var once = await bob.TakeAsSlaveAsync("sae-a", "sae-b", [id]);
        Assert.Single(once);

        var row = before[1];
        Sql(path, "INSERT INTO peer_keys(key_id, block_id, sealed, key_index) VALUES ($id, $b, $s, $i)",
            ("$id", row.KeyId), ("$b", row.Block), ("$s", row.Sealed), ("$i", row.Index));
        // Put back as it was (the reservation recorded just now, so expiry is not what refuses it).
        Sql(path, "INSERT INTO reservations(key_id, master_sae, slave_sae, block_id, recorded_at) VALUES ($id, 'sae-a', 'sae-b', $b, CAST(strftime('%s','now') AS INTEGER) * 1000)",
            ("$id", row.KeyId), ("$b", row.Block));

        var refused = await Assert.ThrowsAsync<KeyNotFoundException>(async () => await bob.TakeAsSlaveAsync("sae-a", "sae-b", [id]));
        Assert.Contains("already consumed", refused.Message);
        Assert.Equal(1, bob.RowsRefused);

        // Reopened, the pool removes such rows at once and says so.
        bob.Dispose();
        using var reopened = _bed.Open(KmeRole.Bob);
        Assert.Equal(1, reopened.RowsRefused);
        Assert.DoesNotContain(reopened.ReadAllForAudit(), k => k.Id == id);
        Assert.True(reopened.Statistics.IsConsistent);
    }

    [Fact]
    public async Task A_row_moved_into_the_other_table_is_refused()
    {
        string path = _bed.PathOf(KmeRole.Alice);
        using var alice = _bed.Open(KmeRole.Alice);
        KeyPoolTestBed.Feed(5, KeyPoolTestBed.Block(5, keys: 4), alice);
        // Bob's key (odd index) moved from peer_keys to the front of master_keys: Alice must not hand it out as master.
        var bobs = RawRows(path, "peer_keys")[0];
        Sql(path, "DELETE FROM peer_keys WHERE key_id = $id", ("$id", bobs.KeyId));
        Sql(path, "INSERT INTO master_keys(seq, key_id, block_id, sealed, key_index) VALUES (0, $id, $b, $s, $i)",
            ("$id", bobs.KeyId), ("$b", bobs.Block), ("$s", bobs.Sealed), ("$i", bobs.Index));

        var taken = await alice.TakeAsMasterAsync("sae-a", "sae-b", 1);
        Assert.NotEqual(new Guid(bobs.KeyId, bigEndian: true), taken[0].Id);
        Assert.Equal(1, alice.RowsRefused);
    }

    [Fact]
    public async Task A_database_put_back_from_an_older_copy_is_refused_at_open_naming_both_files()
    {
        string path = _bed.PathOf(KmeRole.Alice);
        string copy = Path.Combine(_bed.Dir, "backup.db");
        using (var alice = _bed.Open(KmeRole.Alice))
            KeyPoolTestBed.Feed(1, KeyPoolTestBed.Block(1, keys: 8), alice);
        File.Copy(path, copy); // closed: everything is in the database file

        Guid delivered;
        using (var alice = _bed.Open(KmeRole.Alice))
            delivered = (await alice.TakeAsMasterAsync("sae-a", "sae-b", 1))[0].Id;

        File.Copy(copy, path, overwrite: true);
        foreach (var f in new[] { path + "-wal", path + "-shm" }) File.Delete(f);
        var e = Assert.Throws<KeyStoreRolledBackException>(() => _bed.Open(KmeRole.Alice));
        Assert.Contains(path, e.Message);
        Assert.Contains(path + ".generation", e.Message);
        Assert.Contains("earlier copy", e.Message);

        // Put back with its generation file deleted: the store cannot tell, and refuses rather than open.
        File.Delete(path + ".generation");
        var missing = Assert.Throws<KeyStoreRolledBackException>(() => _bed.Open(KmeRole.Alice));
        Assert.Contains("missing", missing.Message);
        Assert.Contains(path + ".generation", missing.Message);
        Assert.NotEqual(Guid.Empty, delivered);
    }

    [Fact]
    public async Task A_store_of_schema_1_is_migrated_keeping_what_was_consumed()
    {
        string path = _bed.PathOf(KmeRole.Alice);
        Guid first;
        using (var alice = _bed.Open(KmeRole.Alice))
        {
            KeyPoolTestBed.Feed(1, KeyPoolTestBed.Block(1, keys: 8), alice);
            first = (await alice.TakeAsMasterAsync("sae-a", "sae-b", 1))[0].Id;
        }
        var firstRow = (KeyId: first.ToByteArray(bigEndian: true), Index: 0L);
        // What schema 1 looked like: no key_index, no consumed bitmap, no generation; no generation file.
        Sql(path, "ALTER TABLE master_keys DROP COLUMN key_index");
        Sql(path, "ALTER TABLE peer_keys DROP COLUMN key_index");
        Sql(path, "ALTER TABLE blocks DROP COLUMN consumed");
        Sql(path, "DELETE FROM meta WHERE name = 'generation'");
        Sql(path, "UPDATE meta SET value = 1 WHERE name = 'schema_version'");
        File.Delete(path + ".generation");

        using (var migrated = _bed.Open(KmeRole.Alice))
        {
            Assert.Equal(3, migrated.AvailableAsMaster);
            Assert.True(migrated.Statistics.IsConsistent);
        }
        // The key delivered before the migration is marked consumed: put back, it is refused.
        var sealedRow = RawRows(path, "master_keys")[0];
        Sql(path, "INSERT INTO master_keys(seq, key_id, block_id, sealed, key_index) VALUES (0, $id, 1, $s, 0)",
            ("$id", firstRow.KeyId), ("$s", sealedRow.Sealed));
        using var reopened = _bed.Open(KmeRole.Alice);
        Assert.Equal(1, reopened.RowsRefused);
        var next = await reopened.TakeAsMasterAsync("sae-a", "sae-b", 3);
        Assert.Equal(new[] { 2, 4, 6 }.Select(i => KeyIds.For(KeyPoolTestBed.LinkId, 1, i)), next.Select(k => k.Id));
    }
}
