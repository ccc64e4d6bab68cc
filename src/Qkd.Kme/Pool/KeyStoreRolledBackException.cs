namespace Qkd.Kme.Pool;

/// <summary>
/// The key pool's database is older than the store's record of deliveries (put back from a copy), or that record is
/// missing: keys in it may have been delivered already, so the pool refuses to open. Raised at startup; the message
/// names the files and what to do.
/// </summary>
public sealed class KeyStoreRolledBackException(string message) : InvalidOperationException(message);
