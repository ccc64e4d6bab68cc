using System.Diagnostics;
using Qkd.Kme.Pool;
using Qkd.Node.Service;

namespace Qkd.Cli.Tests;

/// <summary>
/// `qkd alice` and `qkd bob` as two real processes joined by loopback sockets only: Bob is killed with SIGKILL in the
/// middle of a session and started again; afterwards the two key pools agree key for key and the nodes stop gracefully
/// on SIGTERM. The configs name every endpoint by host name ("localhost:port").
/// </summary>
public sealed class TwoProcessTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-two-process").FullName;
    private readonly List<QkdProcess> _nodes = [];

    public void Dispose()
    {
        foreach (var node in _nodes) node.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private QkdProcess Start(string role)
    {
        var node = QkdProcess.Start(_dir, role, "--config", Path.Combine(_dir, role + ".json"));
        _nodes.Add(node);
        return node;
    }

    private SqliteKeyPool OpenPool(string role) => new(new SqliteKeyPoolOptions
    {
        DatabasePath = Path.Combine(_dir, $"{role}-keys.db"),
        LinkId = "demo-link",
        Role = role == "alice" ? KmeRole.Alice : KmeRole.Bob,
    }, OperatorKey.FromFile(Path.Combine(_dir, $"{role}-operator.key")));

    [Fact(Timeout = 240_000)]
    public void Bob_killed_mid_run_and_restarted_leaves_both_pools_agreeing_and_nothing_duplicated()
    {
        int basePort = Qkd.Cli.Tests.FreePorts.Block();
        NodeSetup.Write(_dir, basePort, durationSeconds: 0.4, sessions: 3, blockSizeBits: 1 << 20);
        // Bob serves as long as Alice wants sessions.
        string bobConfig = Path.Combine(_dir, "bob.json");
        File.WriteAllText(bobConfig, File.ReadAllText(bobConfig).Replace("\"sessions\": 3", "\"sessions\": 0"));
        // The channel, the KME link and the fibre by host name: Bob listens on what "localhost" resolves to, Alice connects to the name.
        foreach (string role in new[] { "alice", "bob" })
        {
            string path = Path.Combine(_dir, role + ".json");
            File.WriteAllText(path, File.ReadAllText(path).Replace("\"127.0.0.1:", "\"localhost:"));
        }

        var bob = Start("bob");
        bob.WaitFor("key delivery on", TimeSpan.FromSeconds(60));
        var alice = Start("alice");
        bob.WaitFor("Session 1 block 0", TimeSpan.FromSeconds(90));

        bob.Process.Kill(entireProcessTree: true); // SIGKILL, mid-session
        bob.Process.WaitForExit();
        var bobAgain = Start("bob");
        alice.WaitFor("3 session(s) done", TimeSpan.FromSeconds(150));
        bobAgain.WaitFor("Session 4", TimeSpan.FromSeconds(60));
        TestContext.Current.CancellationToken.WaitHandle.WaitOne(1_000); // let the last reservations and checkpoints settle

        alice.Terminate();
        bobAgain.Terminate();
        Assert.True(alice.Process.WaitForExit(TimeSpan.FromSeconds(60)), "Alice did not stop on SIGTERM");
        Assert.True(bobAgain.Process.WaitForExit(TimeSpan.FromSeconds(60)), "Bob did not stop on SIGTERM");
        Assert.Equal(0, alice.Process.ExitCode);
        Assert.Equal(0, bobAgain.Process.ExitCode);
        Assert.Contains("Session broken", alice.Output);

        using var alicePool = OpenPool("alice");
        using var bobPool = OpenPool("bob");
        Assert.True(alicePool.Statistics.IsConsistent, alicePool.Statistics.ToString());
        Assert.True(bobPool.Statistics.IsConsistent, bobPool.Statistics.ToString());
        Assert.Equal(alicePool.StoredBlockIds(), bobPool.StoredBlockIds());
        Assert.True(alicePool.AvailableAsMaster > 0);
        Assert.Equal(alicePool.AvailableAsMaster, bobPool.HeldForPeer);
        Assert.Equal(bobPool.AvailableAsMaster, alicePool.HeldForPeer);

        // Every key Alice can hand out, Bob hands to the slave SAE with the same bytes, once.
        var delivered = alicePool.TakeAsMaster(NodeSetup.MasterSae, NodeSetup.SlaveSae, (int)Math.Min(alicePool.AvailableAsMaster, 500));
        var ids = delivered.Select(k => k.Id).ToList();
        bobPool.RecordPeerReservation(NodeSetup.MasterSae, NodeSetup.SlaveSae, ids);
        var redeemed = bobPool.TakeAsSlave(NodeSetup.MasterSae, NodeSetup.SlaveSae, ids);
        Assert.Equal(delivered.Select(k => Convert.ToHexString(k.Key)), redeemed.Select(k => Convert.ToHexString(k.Key)));
        Assert.Throws<KeyNotFoundException>(() => bobPool.TakeAsSlave(NodeSetup.MasterSae, NodeSetup.SlaveSae, ids.Take(1).ToList()));

        // Both audit logs verify, Bob's across his SIGKILL, and tell the story: starts with the config's hash, sessions, the broken one.
        foreach (string role in new[] { "alice", "bob" })
        {
            var (code, output, error) = Cli.Run("audit", "verify", Path.Combine(_dir, $"{role}-audit.jsonl"), "--config", Path.Combine(_dir, $"{role}.json")).GetAwaiter().GetResult();
            Assert.True(code == 0, $"{role}: {output}{error}");
            Assert.StartsWith("OK: ", output);
        }
        string aliceAudit = File.ReadAllText(Path.Combine(_dir, "alice-audit.jsonl")), bobAudit = File.ReadAllText(Path.Combine(_dir, "bob-audit.jsonl"));
        Assert.Contains("\"kind\":\"nodeStarted\"", aliceAudit);
        Assert.Contains("\"configSha256\":\"", aliceAudit);
        Assert.Contains("\"kind\":\"sessionAborted\"", aliceAudit);
        Assert.Contains("\"kind\":\"sessionEnded\",\"session\":", aliceAudit);
        Assert.Contains("\"kind\":\"nodeStopped\"", aliceAudit);
        Assert.Equal(2, bobAudit.Split("\"kind\":\"nodeStarted\"").Length - 1);
    }
}
