namespace Qkd.Kme.Pool;

/// <summary>How hard the key pool pushes each commit to disk (SQLite PRAGMA synchronous, in WAL mode).</summary>
public enum KeyPoolDurability
{
    /// <summary>
    /// synchronous=FULL: the WAL is fsynced at every commit. A delivery survives a power cut once returned, so a key
    /// handed to an application is never handed out again after the machine comes back. The default.
    /// </summary>
    Full,

    /// <summary>
    /// synchronous=NORMAL: fsync only at checkpoints. Safe against the process being killed (the OS has the
    /// writes), but a power cut can roll back the last deliveries, and a key already given to an application could
    /// be given out again. Only for stores on battery-backed or otherwise power-safe storage.
    /// </summary>
    Normal,
}
