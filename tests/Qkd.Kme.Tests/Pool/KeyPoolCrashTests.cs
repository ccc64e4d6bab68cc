using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Qkd.KeyPoolCrashProbe;
using Qkd.Kme.Pool;

namespace Qkd.Kme.Tests.Pool;

/// <summary>
/// kill -9 at random points: a child process (tests/Qkd.KeyPoolCrashProbe) runs both ends' pools, storing blocks and
/// delivering keys in both directions, and is killed with SIGKILL again and again. After every kill both stores must
/// open, their counters must match their rows, no journaled delivery may still be present, and every key not delivered
/// must be the same at both ends.
/// </summary>
public sealed class KeyPoolCrashTests : IDisposable
{
    private const int Seed = 77;
    private const int Kills = 8;
    private readonly KeyPoolTestBed _bed = new();

    public void Dispose() => _bed.Dispose();

    [Fact]
    public async Task Killing_the_process_at_random_points_loses_nothing_and_duplicates_nothing()
    {
        string keyHex = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        var random = new Random(Seed);
        long deliveredBefore = 0;
        for (int run = 0; run < Kills; run++)
        {
            await RunAndKillAsync(keyHex, TimeSpan.FromMilliseconds(random.Next(0, 1200)));
            long delivered = CheckInvariants(keyHex);
            Assert.True(delivered > deliveredBefore, $"run {run}: the probe made no progress before it was killed");
            deliveredBefore = delivered;
        }
    }

    private async Task RunAndKillAsync(string keyHex, TimeSpan after)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardInput = true, // closed if this process dies, which stops the probe
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "Qkd.KeyPoolCrashProbe.dll"), "run", _bed.Dir, keyHex, Seed.ToString() })
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(120));
        string? first = await process.StandardOutput.ReadLineAsync(timeout.Token);
        if (first != "ready")
        {
            process.Kill();
            Assert.Fail($"the probe did not start: {first}\n{await stderr}");
        }
        // Wait for the first committed delivery of this run (an event, however loaded the machine), then kill at a
        // random point after it.
        string? progress = await process.StandardOutput.ReadLineAsync(timeout.Token);
        if (progress != "delivered")
        {
            process.Kill();
            Assert.Fail($"the probe made no delivery: {progress}\n{await stderr}");
        }
        await Task.Delay(after, timeout.Token);
        if (process.HasExited) Assert.Fail($"the probe stopped by itself:\n{await stderr}");
        process.Kill(); // SIGKILL on Unix
        await process.WaitForExitAsync(timeout.Token);
    }

    /// <summary>Checks every invariant after a kill and returns how many keys have been delivered so far.</summary>
    private long CheckInvariants(string keyHex)
    {
        using var key = OperatorKey.FromHex(keyHex);
        using var alice = CrashWorkload.Open(_bed.Dir, KmeRole.Alice, key);
        using var bob = CrashWorkload.Open(_bed.Dir, KmeRole.Bob, key);

        foreach (var pool in new[] { alice, bob })
        {
            var s = pool.Statistics;
            Assert.True(s.IsConsistent, $"{pool.Role}: counters disagree with the rows: {s}");
            var present = pool.ReadAllForAudit().Select(k => k.Id).ToHashSet();
            foreach (bool asMaster in new[] { true, false })
            {
                var journal = Journal(pool.Role, asMaster);
                Assert.Equal(journal.Count, journal.Distinct().Count()); // never delivered twice, across restarts
                Assert.DoesNotContain(journal, present.Contains); // delivered and still present would be a second delivery waiting
                Assert.True(journal.Count <= (asMaster ? s.KeysDeliveredAsMaster : s.KeysDeliveredAsSlave));
            }
        }
        // A slave delivery follows the master's: dec_keys at one end only hands out what enc_keys gave at the other.
        Assert.Subset(Journal(KmeRole.Alice, true).ToHashSet(), Journal(KmeRole.Bob, false).ToHashSet());
        Assert.Subset(Journal(KmeRole.Bob, true).ToHashSet(), Journal(KmeRole.Alice, false).ToHashSet());

        // A kill between the two ends' Accept leaves a block at one end only; the distiller's retry brings the other up.
        for (long block = 0; alice.HasBlock(block) || bob.HasBlock(block); block++)
        {
            var bits = CrashWorkload.Block(Seed, block);
            alice.Accept(block, bits);
            bob.Accept(block, bits);
        }

        var a = alice.ReadAllForAudit().ToDictionary(k => k.Id);
        var b = bob.ReadAllForAudit().ToDictionary(k => k.Id);
        foreach (var (id, k) in a)
        {
            if (b.TryGetValue(id, out var other)) Assert.Equal(k.Key, other.Key);
            // A key one end can still hand out as master is still held by the other for dec_keys.
            if (k.IsMaster) Assert.True(b.ContainsKey(id), $"Alice can still deliver {id} but Bob no longer holds it");
        }
        foreach (var (id, k) in b)
            if (k.IsMaster) Assert.True(a.ContainsKey(id), $"Bob can still deliver {id} but Alice no longer holds it");

        return alice.Statistics.KeysDeliveredAsMaster + bob.Statistics.KeysDeliveredAsMaster;
    }

    private List<Guid> Journal(KmeRole role, bool asMaster)
    {
        string path = CrashWorkload.JournalPath(_bed.Dir, role, asMaster);
        if (!File.Exists(path)) return [];
        // The last line may be cut by the kill: a partial ID was never a whole delivery record.
        return File.ReadAllLines(path).Where(l => Guid.TryParse(l, out _) && l.Length == 36).Select(Guid.Parse).ToList();
    }

    private static string DotnetHost()
    {
        var root = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        var host = Path.Combine(root, "dotnet");
        return File.Exists(host) ? host : "dotnet";
    }
}
