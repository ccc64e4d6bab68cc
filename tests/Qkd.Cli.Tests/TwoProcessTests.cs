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
    private readonly List<Process> _processes = [];

    public void Dispose()
    {
        foreach (var p in _processes.Where(p => !p.HasExited)) p.Kill(entireProcessTree: true);
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private sealed record Node(Process Process, StringWriterWithWait Log);

    /// <summary>Collects a process's output and lets a test wait for a line.</summary>
    private sealed class StringWriterWithWait
    {
        private readonly System.Text.StringBuilder _text = new();

        public void Add(string? line)
        {
            if (line is null) return;
            lock (_text)
            {
                _text.AppendLine(line);
                Monitor.PulseAll(_text);
            }
        }

        public override string ToString()
        {
            lock (_text) return _text.ToString();
        }

        public void WaitFor(string fragment, TimeSpan timeout, Process process)
        {
            var deadline = DateTime.UtcNow + timeout;
            lock (_text)
                while (!_text.ToString().Contains(fragment))
                {
                    if (process.HasExited) throw new InvalidOperationException($"the node exited ({process.ExitCode}) before \"{fragment}\":\n{_text}");
                    if (DateTime.UtcNow > deadline) throw new TimeoutException($"no \"{fragment}\" within {timeout}:\n{_text}");
                    Monitor.Wait(_text, TimeSpan.FromMilliseconds(200));
                }
        }
    }

    private Node Start(string role)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = _dir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "qkd.dll"));
        info.ArgumentList.Add(role);
        info.ArgumentList.Add("--config");
        info.ArgumentList.Add(Path.Combine(_dir, role + ".json"));
        var process = Process.Start(info)!;
        _processes.Add(process);
        var log = new StringWriterWithWait();
        process.OutputDataReceived += (_, e) => log.Add(e.Data);
        process.ErrorDataReceived += (_, e) => log.Add(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new Node(process, log);
    }

    private static void Terminate(Process process)
    {
        using var kill = Process.Start("kill", ["-TERM", process.Id.ToString()]);
        kill.WaitForExit();
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
        int basePort = 20_000 + Random.Shared.Next(0, 8_000) * 5;
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
        bob.Log.WaitFor("key delivery on", TimeSpan.FromSeconds(60), bob.Process);
        var alice = Start("alice");
        bob.Log.WaitFor("Session 1 block 0", TimeSpan.FromSeconds(90), bob.Process);

        bob.Process.Kill(entireProcessTree: true); // SIGKILL, mid-session
        bob.Process.WaitForExit();
        var bobAgain = Start("bob");
        alice.Log.WaitFor("3 session(s) done", TimeSpan.FromSeconds(150), alice.Process);
        bobAgain.Log.WaitFor("Session 4", TimeSpan.FromSeconds(60), bobAgain.Process);
        TestContext.Current.CancellationToken.WaitHandle.WaitOne(1_000); // let the last reservations and checkpoints settle

        Terminate(alice.Process);
        Terminate(bobAgain.Process);
        Assert.True(alice.Process.WaitForExit(TimeSpan.FromSeconds(60)), "Alice did not stop on SIGTERM");
        Assert.True(bobAgain.Process.WaitForExit(TimeSpan.FromSeconds(60)), "Bob did not stop on SIGTERM");
        Assert.Equal(0, alice.Process.ExitCode);
        Assert.Equal(0, bobAgain.Process.ExitCode);
        Assert.Contains("Session broken", alice.Log.ToString());

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
    }
}
