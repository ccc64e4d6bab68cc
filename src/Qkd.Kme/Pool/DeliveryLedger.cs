using Microsoft.Data.Sqlite;

namespace Qkd.Kme.Pool;

/// <summary>
/// What the store remembers of keys it no longer holds: per block, a bitmap of the key indices consumed (delivered,
/// discarded), kept in the blocks table (column consumed) and written in the same transaction as the deletions. A row
/// that reappears (copied back from an older copy of the database) is refused when its index is marked, or when it does
/// not belong where it was found.
/// </summary>
/// <remarks>
/// <para>Why a row can be trusted to say its index: the sealed key is authenticated with its key ID as associated data
/// (<see cref="KeyMaterialProtector"/>) under a subkey of its block, and the key ID is a hash of (link, block, index)
/// (<see cref="KeyIds.For"/>). So a row whose key_index column was changed no longer hashes to its ID and is refused,
/// and a row moved between master_keys and peer_keys is caught by the parity of its index
/// (<see cref="KeyIds.MasterOf"/>).</para>
/// <para>Per-block bitmaps keep the ledger small (one bit per key, in the row the block has anyway) and cheap to write
/// (one row per block a batch touches, flushed once per transaction by <see cref="Flush"/>), where a table of consumed
/// key IDs would add a random index insert per key and grow without bound.</para>
/// <para>Single-threaded: used under the pool's lock, by the writer thread or a synchronous operation.</para>
/// </remarks>
internal sealed class DeliveryLedger : IDisposable
{
    private readonly string _linkId;
    private readonly KmeRole _role;
    private readonly SqliteCommand _select;
    private readonly SqliteCommand _update;
    // Bitmaps read or changed in the transaction under way; written back by Flush, forgotten by Abandon.
    private readonly Dictionary<long, byte[]?> _open = [];
    private readonly HashSet<long> _dirty = [];

    public DeliveryLedger(SqliteConnection db, string linkId, KmeRole role)
    {
        _linkId = linkId;
        _role = role;
        _select = db.CreateCommand();
        _select.CommandText = "SELECT keys_stored, consumed FROM blocks WHERE block_id = $b";
        _select.Parameters.Add(new SqliteParameter { ParameterName = "$b" });
        _update = db.CreateCommand();
        _update.CommandText = "UPDATE blocks SET consumed = $c WHERE block_id = $b";
        _update.Parameters.Add(new SqliteParameter { ParameterName = "$c" });
        _update.Parameters.Add(new SqliteParameter { ParameterName = "$b" });
    }

    /// <summary>Rows refused since the pool opened (reappeared, or not where they belong).</summary>
    public long RowsRefused { get; private set; }

    /// <summary>
    /// Null when the row (key <paramref name="id"/>, block, index) may be delivered from the table of
    /// <paramref name="asMaster"/> keys; otherwise why not. Reads inside <paramref name="tx"/>.
    /// </summary>
    public string? Check(SqliteTransaction tx, Guid id, long blockId, long? index, bool asMaster)
    {
        if (index is not { } i || i < 0 || i > int.MaxValue)
            return "its row has no valid key index";
        if (KeyIds.For(_linkId, blockId, (int)i) != id)
            return $"its row names index {i} of block {blockId}, which is not this key ID";
        if ((KeyIds.MasterOf((int)i) == _role) != asMaster)
            return asMaster ? "it is the peer's key, found among the keys this KME hands out" : "it is this KME's key, found among the keys held for the peer";
        if (!Bitmap(tx, blockId, out var bitmap))
            return $"its block {blockId} is not in this store (discarded, or never stored here)";
        if (bitmap is not null && i / 8 < bitmap.Length && (bitmap[i / 8] & (1 << (int)(i % 8))) != 0)
            return "it was already consumed (delivered or discarded): the row was copied back from an older copy of the store";
        return null;
    }

    /// <summary>Counts a refused row (the caller deletes it or leaves it undeliverable).</summary>
    public void Refused() => RowsRefused++;

    /// <summary>Marks key <paramref name="index"/> of <paramref name="blockId"/> consumed in the transaction under way.</summary>
    public void MarkConsumed(SqliteTransaction tx, long blockId, long index)
    {
        if (!Bitmap(tx, blockId, out var bitmap)) return; // block gone: nothing left to protect
        int needed = (int)(index / 8) + 1;
        if (bitmap is null || bitmap.Length < needed)
        {
            var grown = new byte[Math.Max(needed, bitmap?.Length ?? 0)];
            bitmap?.CopyTo(grown, 0);
            bitmap = grown;
            _open[blockId] = bitmap;
        }
        bitmap[index / 8] |= (byte)(1 << (int)(index % 8));
        _dirty.Add(blockId);
    }

    /// <summary>Writes the changed bitmaps into the transaction under way (call before it commits).</summary>
    public void Flush(SqliteTransaction tx)
    {
        _update.Transaction = tx;
        foreach (long block in _dirty)
        {
            _update.Parameters[0].Value = _open[block]!;
            _update.Parameters[1].Value = block;
            _update.ExecuteNonQuery();
        }
        _dirty.Clear();
        _open.Clear();
    }

    /// <summary>Forgets what the transaction under way read or changed (it was rolled back).</summary>
    public void Abandon()
    {
        _dirty.Clear();
        _open.Clear();
    }

    /// <summary>The consumed bitmap of a whole block, for a store migrated from a version without the ledger.</summary>
    internal static byte[] BitmapOf(IEnumerable<int> consumedIndices, int keys)
    {
        var bitmap = new byte[(keys + 7) / 8];
        foreach (int i in consumedIndices) bitmap[i / 8] |= (byte)(1 << (i % 8));
        return bitmap;
    }

    private bool Bitmap(SqliteTransaction tx, long blockId, out byte[]? bitmap)
    {
        if (_open.TryGetValue(blockId, out bitmap)) return true;
        _select.Transaction = tx;
        _select.Parameters[0].Value = blockId;
        using var reader = _select.ExecuteReader();
        if (!reader.Read()) return false;
        bitmap = reader.IsDBNull(1) ? null : (byte[])reader.GetValue(1);
        _open[blockId] = bitmap;
        return true;
    }

    public void Dispose()
    {
        _select.Dispose();
        _update.Dispose();
    }
}
