using Qkd.Kme.Pool;

namespace Qkd.Kme.Tests.Delivery;

/// <summary>The pools the key-delivery tests run against.</summary>
public static class TestPools
{
    /// <summary>
    /// The real durable pool (<see cref="SqliteKeyPool"/>, synchronous=FULL) in a fresh database under
    /// <paramref name="directory"/>, each KME with its own operator key, as two deployed KMEs would have.
    /// </summary>
    public static Func<KmeRole, IKeyPool> Sqlite(string directory) => role =>
    {
        using var operatorKey = OperatorKey.Generate();
        string path = Path.Combine(directory, $"{role}-{Guid.NewGuid():N}.db");
        return new SqliteKeyPool(new SqliteKeyPoolOptions
        {
            DatabasePath = path,
            LinkId = KmeLink.LinkId,
            Role = role,
            KeySizeBits = KmeLink.KeySizeBits,
        }, operatorKey);
    };

    /// <summary>The test-only in-memory pool (same rules, no disk), for when the store is not the point.</summary>
    public static IKeyPool InMemory(KmeRole role) => new InMemoryKeyPool(role, KmeLink.LinkId, KmeLink.KeySizeBits);
}
