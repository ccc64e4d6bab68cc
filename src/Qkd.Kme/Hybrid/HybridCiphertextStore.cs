using Microsoft.Data.Sqlite;

namespace Qkd.Kme.Hybrid;

/// <summary>
/// The slave KME's record of which reserved keys are hybrid and under which ML-KEM ciphertext (public data: only the
/// holder of the slave's ML-KEM private key can use it). SQLite beside the key pool, synchronous=FULL, so a reservation
/// answered Recorded always has its ciphertext here. Rows leave when their key is handed out; rows of reservations that
/// expired are swept at open once older than <see cref="MaxAge"/>.
/// </summary>
public sealed class HybridCiphertextStore : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly Lock _gate = new();

    public HybridCiphertextStore(string path, TimeSpan? maxAge = null)
    {
        MaxAge = maxAge ?? TimeSpan.FromDays(2);
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        try
        {
            _connection.Open();
            Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;" +
                "CREATE TABLE IF NOT EXISTS hybrid_keys (key_id BLOB PRIMARY KEY, ciphertext BLOB NOT NULL, created_unix_s INTEGER NOT NULL) WITHOUT ROWID;");
            using var sweep = _connection.CreateCommand();
            sweep.CommandText = "DELETE FROM hybrid_keys WHERE created_unix_s < $cutoff";
            sweep.Parameters.AddWithValue("$cutoff", DateTimeOffset.UtcNow.Add(-MaxAge).ToUnixTimeSeconds());
            sweep.ExecuteNonQuery();
        }
        catch (SqliteException e)
        {
            _connection.Dispose();
            throw new InvalidOperationException($"Hybrid key store {path}: {e.Message}", e);
        }
    }

    /// <summary>Rows older than this are swept at open (longer than any reservation expiry).</summary>
    public TimeSpan MaxAge { get; }

    public void Remember(IEnumerable<Guid> keyIds, ReadOnlyMemory<byte> ciphertext)
    {
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            using var insert = _connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = "INSERT OR IGNORE INTO hybrid_keys (key_id, ciphertext, created_unix_s) VALUES ($id, $ct, $now)";
            var id = insert.Parameters.Add("$id", SqliteType.Blob);
            insert.Parameters.AddWithValue("$ct", ciphertext.ToArray());
            insert.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToUnixTimeSeconds());
            foreach (var keyId in keyIds)
            {
                id.Value = keyId.ToByteArray(bigEndian: true);
                insert.ExecuteNonQuery();
            }
            transaction.Commit();
        }
    }

    /// <summary>The ciphertext a key was reserved under, or null for a key reserved plainly.</summary>
    public byte[]? Find(Guid keyId)
    {
        lock (_gate)
        {
            using var select = _connection.CreateCommand();
            select.CommandText = "SELECT ciphertext FROM hybrid_keys WHERE key_id = $id";
            select.Parameters.AddWithValue("$id", keyId.ToByteArray(bigEndian: true));
            return select.ExecuteScalar() as byte[];
        }
    }

    public void Forget(IEnumerable<Guid> keyIds)
    {
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            using var delete = _connection.CreateCommand();
            delete.Transaction = transaction;
            delete.CommandText = "DELETE FROM hybrid_keys WHERE key_id = $id";
            var id = delete.Parameters.Add("$id", SqliteType.Blob);
            foreach (var keyId in keyIds)
            {
                id.Value = keyId.ToByteArray(bigEndian: true);
                delete.ExecuteNonQuery();
            }
            transaction.Commit();
        }
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public void Dispose() => _connection.Dispose();
}
