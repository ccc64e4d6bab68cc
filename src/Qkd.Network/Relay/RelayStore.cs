using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Qkd.Kme.Pool;

namespace Qkd.Network.Relay;

/// <summary>
/// One node's relay state in SQLite (WAL, synchronous=FULL, one transaction per change): the legs it originated, the
/// relays it holds keys for as destination (keys sealed with the operator's key, one row per key and slave SAE,
/// deleted when delivered), relays that passed through, and the link key each neighbour's relays consumed.
/// Not thread-safe: <see cref="RelayNode"/> serialises access.
/// </summary>
internal sealed class RelayStore : IDisposable
{
    private readonly SqliteConnection _db;
    private readonly KeyMaterialProtector _protector;

    public string Path { get; }

    public RelayStore(string path, OperatorKey operatorKey)
    {
        Path = path;
        try
        {
            _db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
            _db.Open();
            Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;");
            Exec("""
                CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value BLOB NOT NULL);
                CREATE TABLE IF NOT EXISTS origin_leg(relay_id TEXT PRIMARY KEY, group_id TEXT NOT NULL, destination TEXT NOT NULL,
                    state INTEGER NOT NULL, reason INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS dest_relay(relay_id TEXT PRIMARY KEY, origin TEXT NOT NULL, master_sae TEXT NOT NULL,
                    state INTEGER NOT NULL, created INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS dest_key(key_id TEXT NOT NULL, slave_sae TEXT NOT NULL, relay_id TEXT NOT NULL,
                    master_sae TEXT NOT NULL, sealed BLOB NOT NULL, PRIMARY KEY(key_id, slave_sae));
                CREATE TABLE IF NOT EXISTS transit(relay_id TEXT PRIMARY KEY, origin TEXT NOT NULL, from_node TEXT NOT NULL,
                    to_node TEXT NOT NULL, state INTEGER NOT NULL, created INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS link_usage(neighbour TEXT PRIMARY KEY, sent_bytes INTEGER NOT NULL, received_bytes INTEGER NOT NULL,
                    messages INTEGER NOT NULL);
                """);
            byte[]? salt = (byte[]?)Scalar("SELECT value FROM meta WHERE name='salt'");
            if (salt is null)
            {
                salt = RandomNumberGenerator.GetBytes(KeyMaterialProtector.SaltBytes);
                _protector = new KeyMaterialProtector(operatorKey, salt);
                Exec("INSERT INTO meta VALUES('salt', $v)", ("$v", salt));
                Exec("INSERT INTO meta VALUES('check', $v)", ("$v", _protector.CreateVerificationRecord()));
            }
            else
            {
                _protector = new KeyMaterialProtector(operatorKey, salt);
                if (Scalar("SELECT value FROM meta WHERE name='check'") is not byte[] check || !_protector.Verifies(check))
                    throw new RelayStoreException($"Relay store {path}: the operator key is not the one this store was created with");
            }
        }
        catch (SqliteException e)
        {
            throw new RelayStoreException($"Relay store {path}: {e.Message}", e);
        }
    }

    public long NextAdvertisementSequence()
    {
        long next = (Scalar("SELECT value FROM meta WHERE name='lsa_seq'") is byte[] b ? BitConverter.ToInt64(b) : 0) + 1;
        Exec("INSERT OR REPLACE INTO meta VALUES('lsa_seq', $v)", ("$v", BitConverter.GetBytes(next)));
        return next;
    }

    // Origin.

    public void InsertLegs(Guid groupId, IEnumerable<(Guid RelayId, string Destination)> legs, long now)
    {
        using var tx = _db.BeginTransaction();
        foreach (var (relayId, destination) in legs)
            Exec("INSERT INTO origin_leg(relay_id, group_id, destination, state, created) VALUES($r, $g, $d, $s, $t)",
                ("$r", relayId.ToString()), ("$g", groupId.ToString()), ("$d", destination), ("$s", (int)OriginLegState.Sent), ("$t", now));
        tx.Commit();
    }

    public (OriginLegState State, Guid GroupId, string Destination)? Leg(Guid relayId)
    {
        using var c = Command("SELECT state, group_id, destination FROM origin_leg WHERE relay_id=$r", ("$r", relayId.ToString()));
        using var r = c.ExecuteReader();
        return r.Read() ? ((OriginLegState)r.GetInt32(0), Guid.Parse(r.GetString(1)), r.GetString(2)) : null;
    }

    public void SetLegState(Guid relayId, OriginLegState state, AbortReason reason = AbortReason.None) =>
        Exec("UPDATE origin_leg SET state=$s, reason=$e WHERE relay_id=$r", ("$s", (int)state), ("$e", (int)reason), ("$r", relayId.ToString()));

    /// <summary>Every leg of a group goes to <paramref name="state"/> in one transaction, optionally with local keys stored (a slave SAE on this node).</summary>
    public void SetGroupState(Guid groupId, OriginLegState state, AbortReason reason, Action? alsoInTransaction = null)
    {
        using var tx = _db.BeginTransaction();
        Exec("UPDATE origin_leg SET state=$s, reason=$e WHERE group_id=$g AND state IN (1, 2)", ("$s", (int)state), ("$e", (int)reason), ("$g", groupId.ToString()));
        alsoInTransaction?.Invoke();
        tx.Commit();
    }

    public IReadOnlyList<(Guid RelayId, string Destination, OriginLegState State)> LegsIn(params OriginLegState[] states)
    {
        using var c = Command($"SELECT relay_id, destination, state FROM origin_leg WHERE state IN ({string.Join(',', states.Select(s => (int)s))})");
        using var r = c.ExecuteReader();
        var list = new List<(Guid, string, OriginLegState)>();
        while (r.Read()) list.Add((Guid.Parse(r.GetString(0)), r.GetString(1), (OriginLegState)r.GetInt32(2)));
        return list;
    }

    public int CountLegs(OriginLegState state) => Convert.ToInt32(Scalar("SELECT count(*) FROM origin_leg WHERE state=$s", ("$s", (int)state)));

    // Destination.

    public DestinationState? Destination(Guid relayId) =>
        Scalar("SELECT state FROM dest_relay WHERE relay_id=$r", ("$r", relayId.ToString())) is long s ? (DestinationState)s : null;

    /// <summary>Stores the keys of a relay for each slave SAE, sealed; one transaction.</summary>
    public void StoreDestination(Guid relayId, string origin, string masterSae, IReadOnlyList<string> slaves,
        IReadOnlyList<Guid> keyIds, ReadOnlySpan<byte> keys, int keySizeBytes, long now, bool inTransaction = false)
    {
        using var tx = inTransaction ? null : _db.BeginTransaction();
        Exec("INSERT INTO dest_relay VALUES($r, $o, $m, $s, $t)", ("$r", relayId.ToString()), ("$o", origin), ("$m", masterSae),
            ("$s", (int)DestinationState.Stored), ("$t", now));
        for (int i = 0; i < keyIds.Count; i++)
        {
            var sealedKey = new byte[KeyMaterialProtector.SealedLength(keySizeBytes)];
            _protector.Seal(keyIds[i], 0, keys.Slice(i * keySizeBytes, keySizeBytes), sealedKey);
            foreach (string slave in slaves)
                Exec("INSERT INTO dest_key VALUES($k, $s, $r, $m, $b)", ("$k", keyIds[i].ToString()), ("$s", slave), ("$r", relayId.ToString()),
                    ("$m", masterSae), ("$b", sealedKey));
        }
        tx?.Commit();
    }

    /// <summary>Rolls a relay back at the destination: its keys deleted, a tombstone left (a late Forward is refused). Idempotent.</summary>
    public int AbortDestination(Guid relayId, string origin, long now)
    {
        using var tx = _db.BeginTransaction();
        int deleted = Exec("DELETE FROM dest_key WHERE relay_id=$r", ("$r", relayId.ToString()));
        Exec("INSERT INTO dest_relay VALUES($r, $o, '', $s, $t) ON CONFLICT(relay_id) DO UPDATE SET state=$s",
            ("$r", relayId.ToString()), ("$o", origin), ("$s", (int)DestinationState.Aborted), ("$t", now));
        tx.Commit();
        return deleted;
    }

    /// <summary>dec_keys: the keys with these IDs for this slave and master, each once, then deleted. All or nothing.</summary>
    public IReadOnlyList<(Guid Id, byte[] Key)> TakeForSlave(string masterSae, string slaveSae, IReadOnlyList<Guid> keyIds)
    {
        using var tx = _db.BeginTransaction();
        var result = new List<(Guid, byte[])>();
        foreach (var id in keyIds)
        {
            using var c = Command("SELECT sealed FROM dest_key WHERE key_id=$k AND slave_sae=$s AND master_sae=$m",
                ("$k", id.ToString()), ("$s", slaveSae), ("$m", masterSae));
            if (c.ExecuteScalar() is not byte[] sealedKey)
            {
                foreach (var (_, k) in result) CryptographicOperations.ZeroMemory(k);
                throw new KeyNotFoundException($"Key {id} is unknown, already delivered, expired, or not relayed from master SAE '{masterSae}' to SAE '{slaveSae}'");
            }
            var key = new byte[sealedKey.Length - KeyMaterialProtector.OverheadBytes];
            _protector.Open(id, 0, sealedKey, key);
            result.Add((id, key));
            Exec("DELETE FROM dest_key WHERE key_id=$k AND slave_sae=$s", ("$k", id.ToString()), ("$s", slaveSae));
        }
        tx.Commit();
        return result;
    }

    public long KeysHeldForSlaves() => Convert.ToInt64(Scalar("SELECT count(*) FROM dest_key"));

    /// <summary>
    /// Deletes the keys still held for slave SAEs of relays stored before <paramref name="cutoffTicks"/> (UTC ticks) and
    /// marks those relays <see cref="DestinationState.Expired"/>; one transaction, which also adds the keys to the
    /// durable count (<see cref="ExpiredKeys"/>). The rows are overwritten on delete (secure_delete) and the WAL is
    /// checkpointed, so the sealed keys leave the files too. Returns the relays and keys (one per key and slave) removed.
    /// </summary>
    public (int Relays, long Keys) ExpireHeldKeys(long cutoffTicks)
    {
        var relays = new List<string>();
        using (var c = Command("SELECT DISTINCT r.relay_id FROM dest_key k JOIN dest_relay r ON r.relay_id = k.relay_id WHERE r.state=$s AND r.created < $c",
                   ("$s", (int)DestinationState.Stored), ("$c", cutoffTicks)))
        using (var r = c.ExecuteReader())
            while (r.Read()) relays.Add(r.GetString(0));
        if (relays.Count == 0) return (0, 0);
        long keys = 0;
        using (var tx = _db.BeginTransaction())
        {
            foreach (string relayId in relays)
            {
                keys += Exec("DELETE FROM dest_key WHERE relay_id=$r", ("$r", relayId));
                Exec("UPDATE dest_relay SET state=$s WHERE relay_id=$r", ("$s", (int)DestinationState.Expired), ("$r", relayId));
            }
            Exec("INSERT OR REPLACE INTO meta VALUES('expired_keys', $v)", ("$v", BitConverter.GetBytes(ExpiredKeys() + keys)));
            tx.Commit();
        }
        Exec("PRAGMA wal_checkpoint(TRUNCATE)");
        return (relays.Count, keys);
    }

    /// <summary>Keys (one per key and slave SAE) removed unfetched because they expired, over the store's life.</summary>
    public long ExpiredKeys() => Scalar("SELECT value FROM meta WHERE name='expired_keys'") is byte[] b ? BitConverter.ToInt64(b) : 0;

    public int CountDestinations(DestinationState state) => Convert.ToInt32(Scalar("SELECT count(*) FROM dest_relay WHERE state=$s", ("$s", (int)state)));

    // Transit.

    public void SetTransit(Guid relayId, string origin, string from, string to, TransitState state, long now) =>
        Exec("INSERT INTO transit VALUES($r, $o, $f, $n, $s, $t) ON CONFLICT(relay_id) DO UPDATE SET to_node=$n, state=$s",
            ("$r", relayId.ToString()), ("$o", origin), ("$f", from), ("$n", to), ("$s", (int)state), ("$t", now));

    public IReadOnlyList<(Guid RelayId, string Origin)> TransitsIn(TransitState state)
    {
        using var c = Command("SELECT relay_id, origin FROM transit WHERE state=$s", ("$s", (int)state));
        using var r = c.ExecuteReader();
        var list = new List<(Guid, string)>();
        while (r.Read()) list.Add((Guid.Parse(r.GetString(0)), r.GetString(1)));
        return list;
    }

    public int CountTransits(TransitState state) => Convert.ToInt32(Scalar("SELECT count(*) FROM transit WHERE state=$s", ("$s", (int)state)));

    // Accounting.

    public void CountLinkKey(string neighbour, long sentBytes, long receivedBytes) =>
        Exec("INSERT INTO link_usage VALUES($n, $s, $r, 1) ON CONFLICT(neighbour) DO UPDATE SET sent_bytes=sent_bytes+$s, received_bytes=received_bytes+$r, messages=messages+1",
            ("$n", neighbour), ("$s", sentBytes), ("$r", receivedBytes));

    public IReadOnlyList<LinkKeyUsage> LinkUsage()
    {
        using var c = Command("SELECT neighbour, sent_bytes, received_bytes, messages FROM link_usage ORDER BY neighbour");
        using var r = c.ExecuteReader();
        var list = new List<LinkKeyUsage>();
        while (r.Read()) list.Add(new LinkKeyUsage(r.GetString(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3)));
        return list;
    }

    public void Dispose()
    {
        _db.Dispose();
        _protector.Dispose();
    }

    private SqliteCommand Command(string sql, params (string Name, object Value)[] parameters)
    {
        var c = _db.CreateCommand();
        c.CommandText = sql;
        foreach (var (n, v) in parameters) c.Parameters.AddWithValue(n, v);
        return c;
    }

    private int Exec(string sql, params (string Name, object Value)[] parameters)
    {
        using var c = Command(sql, parameters);
        return c.ExecuteNonQuery();
    }

    private object? Scalar(string sql, params (string Name, object Value)[] parameters)
    {
        using var c = Command(sql, parameters);
        return c.ExecuteScalar();
    }
}

/// <summary>The relay store cannot be opened or used; the message names the file.</summary>
public sealed class RelayStoreException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Link key the relay consumed on the link to one neighbour: as sender, as receiver, and the messages.</summary>
public sealed record LinkKeyUsage(string Neighbour, long SentBytes, long ReceivedBytes, long Messages);
