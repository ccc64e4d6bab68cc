using System.Runtime.CompilerServices;

// The crash and agreement tests read every stored key back (SqliteKeyPool.ReadAllForAudit); applications never can.
[assembly: InternalsVisibleTo("Qkd.Kme.Tests")]
[assembly: InternalsVisibleTo("Qkd.KeyPoolCrashProbe")]
