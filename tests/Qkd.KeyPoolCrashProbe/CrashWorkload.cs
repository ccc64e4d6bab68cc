using Qkd.Core.Bits;
using Qkd.Kme.Pool;

namespace Qkd.KeyPoolCrashProbe;

/// <summary>
/// What the probe does between kills, and what the test needs to check it: the same deterministic blocks at both ends,
/// keys delivered in both directions, and a journal of every delivered key ID written after the delivery returns.
/// </summary>
public static class CrashWorkload
{
    public const string LinkId = "crash-probe-link";
    public const int KeySizeBits = 256;
    public const int KeysPerBlock = 24;
    public const int RemainderBits = 13;

    public static string PoolPath(string dir, KmeRole role) => Path.Combine(dir, role == KmeRole.Alice ? "alice.db" : "bob.db");

    /// <summary>Journal of key IDs an end delivered, one per line: "&lt;role&gt;-master.log" (enc_keys) or "&lt;role&gt;-slave.log" (dec_keys).</summary>
    public static string JournalPath(string dir, KmeRole role, bool asMaster) =>
        Path.Combine(dir, $"{role.ToString().ToLowerInvariant()}-{(asMaster ? "master" : "slave")}.log");

    public static SqliteKeyPool Open(string dir, KmeRole role, OperatorKey key) =>
        new(new SqliteKeyPoolOptions { DatabasePath = PoolPath(dir, role), LinkId = LinkId, Role = role, KeySizeBits = KeySizeBits }, key);

    /// <summary>Block <paramref name="blockId"/>'s key: the same bits every time, as both distillers would produce.</summary>
    public static PackedBits Block(int seed, long blockId)
    {
        long bits = (long)KeysPerBlock * KeySizeBits + RemainderBits;
        var bytes = new byte[(bits + 7) / 8];
        // Not HashCode.Combine: it is randomised per process, and the test regenerates blocks in another process.
        new Random(unchecked((int)(seed * 2654435761L ^ blockId * 40503L))).NextBytes(bytes);
        return PackedBits.FromBytes(bytes, bits);
    }

    /// <summary>
    /// Runs until killed: store the next block at Alice then Bob, deliver keys Alice -> Bob and Bob -> Alice
    /// (enc_keys, reservation at the peer, dec_keys), journal every delivered ID. Resumes where the last run stopped.
    /// </summary>
    public static void Run(string dir, OperatorKey key, int seed, Action<string> report)
    {
        using var alice = Open(dir, KmeRole.Alice, key);
        using var bob = Open(dir, KmeRole.Bob, key);
        var journals = new Dictionary<(KmeRole, bool), StreamWriter>();
        StreamWriter Journal(KmeRole role, bool master)
        {
            if (!journals.TryGetValue((role, master), out var w))
                journals[(role, master)] = w = new StreamWriter(new FileStream(JournalPath(dir, role, master), FileMode.Append, FileAccess.Write, FileShare.Read));
            return w;
        }

        long block = 0;
        var random = new Random(seed ^ Environment.ProcessId);
        report("ready");
        bool progressReported = false;
        for (long round = 0; ; round++)
        {
            while (alice.HasBlock(block) && bob.HasBlock(block)) block++;
            var bits = Block(seed, block);
            alice.Accept(block, bits);
            bob.Accept(block, bits);
            bits.Clear();

            int delivered = Deliver(alice, bob, random.Next(1, 9), "sae-a", "sae-b", Journal)
                + Deliver(bob, alice, random.Next(1, 9), "sae-b", "sae-a", Journal);
            if (delivered > 0 && !progressReported)
            {
                // The test kills only after this run has committed a delivery, so every run shows progress however
                // slowly a loaded machine opens the stores.
                report("delivered");
                progressReported = true;
            }
        }
    }

    private static int Deliver(SqliteKeyPool master, SqliteKeyPool slave, int count, string masterSae, string slaveSae, Func<KmeRole, bool, StreamWriter> journal)
    {
        if (master.AvailableAsMaster < count) return 0;
        var keys = master.TakeAsMaster(masterSae, slaveSae, count);
        Write(journal(master.Role, true), keys);
        var ids = keys.Select(k => k.Id).ToArray();
        slave.RecordPeerReservation(masterSae, slaveSae, ids);
        var received = slave.TakeAsSlave(masterSae, slaveSae, ids);
        Write(journal(slave.Role, false), received);
        for (int i = 0; i < keys.Count; i++)
        {
            if (!keys[i].Key.AsSpan().SequenceEqual(received[i].Key))
                throw new InvalidOperationException($"Key {keys[i].Id} differs between the ends.");
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(keys[i].Key);
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(received[i].Key);
        }
        return keys.Count;
    }

    private static void Write(StreamWriter journal, IReadOnlyList<DeliveredKey> keys)
    {
        foreach (var k in keys) journal.WriteLine(k.Id.ToString("D"));
        journal.Flush();
    }
}
