using Qkd.Core.Bits;
using Qkd.Kme.Pool;

namespace Qkd.Kme.Tests.Pool;

/// <summary>A temporary directory with an operator key and helpers to open Alice's and Bob's pools of one link.</summary>
public sealed class KeyPoolTestBed : IDisposable
{
    public const string LinkId = "test-link";

    public KeyPoolTestBed()
    {
        Directory.CreateDirectory(Dir);
        Key = OperatorKey.Generate();
    }

    public string Dir { get; } = Path.Combine(Path.GetTempPath(), "qkd-keystore-tests-" + Guid.NewGuid().ToString("N"));

    public OperatorKey Key { get; }

    public string PathOf(KmeRole role) => Path.Combine(Dir, $"{role.ToString().ToLowerInvariant()}.db");

    public SqliteKeyPoolOptions Options(KmeRole role, long maxKeys = 1_000_000) =>
        new() { DatabasePath = PathOf(role), LinkId = LinkId, Role = role, KeySizeBits = 256, MaxKeyCount = maxKeys };

    public SqliteKeyPool Open(KmeRole role, long maxKeys = 1_000_000) => new(Options(role, maxKeys), Key);

    /// <summary>A block of <paramref name="keys"/> whole 256-bit keys plus <paramref name="extraBits"/> trailing bits, the same for the same seed.</summary>
    public static PackedBits Block(int seed, int keys, int extraBits = 0)
    {
        long bits = keys * 256L + extraBits;
        var bytes = new byte[(bits + 7) / 8];
        new Random(seed).NextBytes(bytes);
        return PackedBits.FromBytes(bytes, bits);
    }

    public static void Feed(long blockId, PackedBits block, params IKeyPool[] pools)
    {
        foreach (var pool in pools) pool.Accept(blockId, block);
    }

    public void Dispose()
    {
        Key.Dispose();
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
            // A file still open by a failed test: leave it in /tmp rather than hide the real failure.
        }
    }
}
