namespace Qkd.Kme.Pool;

/// <summary>Configuration of one KME's <see cref="SqliteKeyPool"/>.</summary>
public sealed record SqliteKeyPoolOptions
{
    /// <summary>The SQLite database file (created with mode 0600 when missing; -wal and -shm files sit beside it).</summary>
    public required string DatabasePath { get; init; }

    /// <summary>The link's ID, the same at both ends: key IDs derive from it (<see cref="KeyIds.For"/>).</summary>
    public required string LinkId { get; init; }

    public required KmeRole Role { get; init; }

    /// <summary>Size of every key, bits; a multiple of 8 (keys are delivered as bytes). Fixed when the store is created.</summary>
    public int KeySizeBits { get; init; } = 256;

    /// <summary>The most keys the pool holds (as master and held for the peer together); a block that does not fit whole is dropped.</summary>
    public long MaxKeyCount { get; init; } = 1_000_000;

    public KeyPoolDurability Durability { get; init; } = KeyPoolDurability.Full;

    /// <summary>
    /// How long a key reserved by the peer's enc_keys waits for its slave SAE's dec_keys: after this it is deleted (and
    /// counted as expired), so keys an SAE never redeems are not held for ever. The master's KME holds nothing for such
    /// a key (it handed the key out at enc_keys), so expiring it here removes it at both ends; both nodes of a link
    /// are configured alike. Default one hour.
    /// </summary>
    public TimeSpan ReservationExpiry { get; init; } = DefaultReservationExpiry;

    public static readonly TimeSpan DefaultReservationExpiry = TimeSpan.FromHours(1);

    /// <summary>How often expired reservations are swept out (null: an eighth of the expiry, between 1 s and 1 min).
    /// dec_keys refuses an expired reservation whether or not the sweep has run.</summary>
    public TimeSpan? ExpirySweepInterval { get; init; }

    /// <summary>The clock that stamps reservations and drives expiry (tests move a fake one).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>How long an operation waits for a lock held by another process on the same file (e.g. `qkd keys status`).</summary>
    public TimeSpan BusyTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The store's generation file (<see cref="SqliteKeyPool.GenerationFilePath"/>), which lets the pool refuse a database put
    /// back from an older copy. Null: the database path + ".generation". Keep it out of backups of the database, or put it
    /// on another volume, so that restoring a backup cannot put back an old generation with it.
    /// </summary>
    public string? GenerationFilePath { get; init; }

    /// <summary>
    /// Under continuous load, the longest a consumed key stays in the -wal file: a truncating checkpoint clears consumed
    /// keys once the oldest one not yet cleared is this old (an idle pool clears them within milliseconds of every
    /// delivery). Each checkpoint stalls the pool's writer for a few milliseconds to tens of milliseconds.
    /// </summary>
    public TimeSpan ScrubInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Under continuous load, the most delivery transactions between two truncating checkpoints that clear consumed keys
    /// from the -wal file (bounds the file's growth when transactions are many; <see cref="ScrubInterval"/> usually
    /// comes first).
    /// </summary>
    public int ScrubEveryBatches { get; init; } = 512;

    /// <summary>
    /// Under continuous load (synchronous=FULL), the most delivery transactions between two writes of the generation file:
    /// a database put back from a copy taken within this many transactions of a crash is not recognised as older. An
    /// idle pool records the exact count after every delivery (with its scrub), and a pool closed cleanly at close.
    /// 1 records every transaction (an extra flush to disk per delivery transaction).
    /// </summary>
    public int GenerationRecordEvery { get; init; } = 64;
}
