using Microsoft.Data.Sqlite;
using Qkd.Kme.Pool;

namespace Qkd.Kme.Tests.Pool;

/// <summary>A store that cannot be opened says which file, whatever SQLite's own message says.</summary>
public sealed class KeyPoolOpenErrorTests : IDisposable
{
    private readonly KeyPoolTestBed _bed = new();

    public void Dispose() => _bed.Dispose();

    [Fact]
    public void A_file_that_is_not_a_database_is_named_in_the_error()
    {
        string path = _bed.PathOf(KmeRole.Alice);
        File.WriteAllBytes(path, new byte[8192].Select((_, i) => (byte)(i * 7)).ToArray());
        var e = Assert.Throws<SqliteException>(() => _bed.Open(KmeRole.Alice));
        Assert.Contains(path, e.Message);
        Assert.Equal(26, e.SqliteErrorCode); // SQLITE_NOTADB, kept
    }
}
