using System.Diagnostics;
using Qkd.Core.Bits;
using Qkd.Kme.Pool;

namespace Qkd.KeyPoolCrashProbe;

/// <summary>A quick benchmark of the key pool on this machine: Accept keys/s, TakeAsMaster ops/s, and full delivery pairs/s.</summary>
public static class KeyPoolBench
{
    public static void Run(string dir, KeyPoolDurability durability)
    {
        Directory.CreateDirectory(dir);
        foreach (var f in Directory.GetFiles(dir, "bench-*")) File.Delete(f);
        using var key = OperatorKey.Generate();
        SqliteKeyPool Open(KmeRole role) => new(new SqliteKeyPoolOptions
        {
            DatabasePath = Path.Combine(dir, $"bench-{role}.db"), LinkId = "bench", Role = role, KeySizeBits = 256,
            MaxKeyCount = 10_000_000, Durability = durability,
        }, key);
        using var alice = Open(KmeRole.Alice);
        using var bob = Open(KmeRole.Bob);
        Console.WriteLine($"durability {durability}, 256-bit keys, {Environment.ProcessorCount} cores, db in {dir}");

        const int blocks = 40, keysPerBlock = 4096;
        var random = new Random(1);
        var blockBits = Enumerable.Range(0, blocks).Select(_ =>
        {
            var b = new byte[keysPerBlock * 32];
            random.NextBytes(b);
            return PackedBits.FromBytes(b, b.Length * 8L);
        }).ToArray();
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < blocks; i++) alice.Accept(i, blockBits[i]);
        double acceptSeconds = sw.Elapsed.TotalSeconds;
        Console.WriteLine($"Accept: {blocks * keysPerBlock / acceptSeconds:F0} keys/s ({blocks} blocks of {keysPerBlock} keys, {acceptSeconds * 1000 / blocks:F1} ms per block)");
        for (int i = 0; i < blocks; i++) bob.Accept(i, blockBits[i]);

        Measure("TakeAsMaster(1), one thread", 3000, _ => alice.TakeAsMaster("a", "b", 1));
        Measure("TakeAsMaster(10), one thread", 1000, _ => alice.TakeAsMaster("a", "b", 10));

        // A full delivery pair: enc_keys at Alice, the reservation at Bob, dec_keys at Bob.
        var latencies = new List<double>();
        Measure("enc_keys(1) + reservation + dec_keys(1) pair, one thread", 2000, _ =>
        {
            long t0 = Stopwatch.GetTimestamp();
            var k = alice.TakeAsMaster("a", "b", 1);
            bob.RecordPeerReservation("a", "b", [k[0].Id]);
            bob.TakeAsSlave("a", "b", [k[0].Id]);
            latencies.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        });
        latencies.Sort();
        Console.WriteLine($"  pair latency p50 {latencies[latencies.Count / 2]:F3} ms, p99 {latencies[(int)(latencies.Count * 0.99)]:F3} ms");

        int threads = 4, perThread = 1000;
        sw.Restart();
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ =>
        {
            for (int i = 0; i < perThread; i++) alice.TakeAsMaster("a", "b", 1);
        });
        Console.WriteLine($"TakeAsMaster(1), {threads} threads: {threads * perThread / sw.Elapsed.TotalSeconds:F0} ops/s");
        Console.WriteLine($"alice: {alice.Statistics}");
    }

    private static void Measure(string name, int n, Action<int> op)
    {
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < n; i++) op(i);
        Console.WriteLine($"{name}: {n / sw.Elapsed.TotalSeconds:F0} ops/s ({sw.Elapsed.TotalMilliseconds * 1000 / n:F1} us each)");
    }
}
