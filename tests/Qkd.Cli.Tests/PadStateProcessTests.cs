using Qkd.Node.Service;

namespace Qkd.Cli.Tests;

/// <summary>
/// `qkd alice` with her authentication pad state deleted, or restored from a backup, while Bob runs: she stops with exit
/// code 3 and one line saying to re-provision, Bob refuses her frames, and she refuses to start again.
/// </summary>
public sealed class PadStateProcessTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-pad-state").FullName;
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

    [Theory(Timeout = 240_000)]
    [InlineData("deleted")]
    [InlineData("restored")]
    public void Alice_with_her_pad_state_deleted_or_restored_stops_naming_the_way_out_and_Bob_refuses_her(string how)
    {
        NodeSetup.Write(_dir, FreePorts.Block(), durationSeconds: 0.2, sessions: 0, blockSizeBits: 1 << 20);
        string state = Path.Combine(_dir, "alice-state"), backup = Path.Combine(_dir, "alice-state-backup");

        var bob = Start("bob");
        bob.WaitFor("key delivery on", TimeSpan.FromSeconds(60));
        var alice = Start("alice");
        alice.WaitFor("connected, session", TimeSpan.FromSeconds(60));
        alice.Terminate();
        Assert.True(alice.Process.WaitForExit(TimeSpan.FromSeconds(60)), "Alice did not stop on SIGTERM");
        if (how == "restored") CopyDirectory(state, backup);
        // Alice runs on (past the backup's reservations), then is killed.
        var again = Start("alice");
        again.WaitFor("connected, session", TimeSpan.FromSeconds(60));
        again.Process.Kill(entireProcessTree: true);
        again.Process.WaitForExit();

        Directory.Delete(state, recursive: true);
        if (how == "restored") CopyDirectory(backup, state);
        var stale = Start("alice");
        Assert.True(stale.Process.WaitForExit(TimeSpan.FromSeconds(120)), "Alice with a stale pad state kept running:\n" + stale.Output);
        Assert.True(stale.Process.ExitCode == 3, $"exit code {stale.Process.ExitCode}, expected 3:\n{stale.Output}");
        string error = stale.Output.Split('\n').Single(l => l.StartsWith("error: ", StringComparison.Ordinal));
        Assert.StartsWith("error: classicalChannel.stateDirectory: ", error);
        Assert.Contains("older than the peer's", error);
        Assert.Contains("Re-provision a fresh pre-shared secret at both ends", error);
        bob.WaitFor("refused the peer: its authentication pad state is older", TimeSpan.FromSeconds(30));

        // And it refuses to start again, before it connects to anything.
        var once = Start("alice");
        Assert.True(once.Process.WaitForExit(TimeSpan.FromSeconds(120)));
        Assert.Equal(3, once.Process.ExitCode);
        Assert.Contains("Re-provision", once.Output);
        Assert.DoesNotContain("connected, session", once.Output);
        Assert.False(bob.Process.HasExited);
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }
}
