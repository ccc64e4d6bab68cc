using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Qkd.Cli.Commands;
using Qkd.Node.Service;

namespace Qkd.Cli.Tests;

/// <summary>
/// `qkd bob` as systemd starts it (Type=notify): SYSTEMD_EXEC_PID names the process and NOTIFY_SOCKET is a datagram
/// socket this test holds in systemd's place. READY=1 comes only once the node is up (its ETSI 014 server and KME link
/// accept connections), STOPPING=1 on SIGTERM; a node that cannot start never says READY=1 and exits non-zero.
/// </summary>
public sealed class SystemdNotifyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-systemd").FullName;
    private readonly string _socketPath = Path.Combine(Path.GetTempPath(), $"qkd-notify-{Guid.NewGuid():N}"[..24] + ".sock");
    private readonly Socket _notify = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly int _basePort = FreePorts.Block();
    private Process? _process;

    public SystemdNotifyTests()
    {
        _notify.Bind(new UnixDomainSocketEndPoint(_socketPath));
        NodeSetup.Write(_dir, _basePort);
    }

    public void Dispose()
    {
        if (_process is { HasExited: false }) _process.Kill(entireProcessTree: true);
        _process?.Dispose();
        _notify.Dispose();
        File.Delete(_socketPath);
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>Starts `qkd bob` through a shell that sets SYSTEMD_EXEC_PID to its own PID and then execs (keeping the PID).</summary>
    private Process StartUnderNotify(StringBuilder log)
    {
        var info = new ProcessStartInfo("/bin/sh")
        {
            WorkingDirectory = _dir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("SYSTEMD_EXEC_PID=$$; export SYSTEMD_EXEC_PID; exec dotnet \"$@\"");
        info.ArgumentList.Add("sh");
        foreach (string arg in new[] { Path.Combine(AppContext.BaseDirectory, "qkd.dll"), "bob", "--config", Path.Combine(_dir, "bob.json") })
            info.ArgumentList.Add(arg);
        info.Environment["NOTIFY_SOCKET"] = _socketPath;
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>The next datagram on the notify socket; fails with the node's output if it exits or the timeout passes first.</summary>
    private async Task<string> NextNotification(TimeSpan timeout, StringBuilder log)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(timeout);
        var buffer = new byte[4096];
        var receive = _notify.ReceiveAsync(buffer, SocketFlags.None, deadline.Token).AsTask();
        var exited = _process!.WaitForExitAsync(deadline.Token);
        await Task.WhenAny(receive, exited);
        // A node that exits right after notifying has queued the datagram already: give the receive time to finish.
        if (!receive.IsCompleted) await Task.WhenAny(receive, Task.Delay(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken));
        if (!receive.IsCompletedSuccessfully)
        {
            await deadline.CancelAsync();
            lock (log) Assert.Fail($"no notification (node {(_process.HasExited ? $"exited {_process.ExitCode}" : "still running")}):\n{log}");
        }
        return Encoding.UTF8.GetString(buffer, 0, await receive);
    }

    private static bool Accepts(int port)
    {
        using var client = new TcpClient();
        try
        {
            client.Connect("127.0.0.1", port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task Ready_means_the_key_server_and_the_KME_link_listen_and_SIGTERM_says_stopping()
    {
        var log = new StringBuilder();
        _process = StartUnderNotify(log);
        string ready = await NextNotification(TimeSpan.FromSeconds(150), log);
        Assert.Contains("READY=1", ready);
        Assert.True(Accepts(_basePort + 4), "READY=1 before Bob's ETSI 014 server listened");
        Assert.True(Accepts(_basePort + 1), "READY=1 before Bob's KME link listened");

        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString()])) await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.Contains("STOPPING=1", await NextNotification(TimeSpan.FromSeconds(60), log));
        await _process.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.Equal(NodeExitCode.Stopped, _process.ExitCode);
        // Journal format: a syslog priority in front of each line instead of a timestamp ("<6>" is information).
        lock (log) Assert.Contains("<6>qkd.bob", log.ToString());
    }

    [Fact(Timeout = 180_000)]
    public async Task A_node_that_cannot_start_never_says_ready()
    {
        File.Delete(Path.Combine(_dir, "bob-operator.key"));
        var log = new StringBuilder();
        _process = StartUnderNotify(log);
        await _process.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.Equal(NodeExitCode.Files, _process.ExitCode);
        Assert.Equal(0, _notify.Available);
        lock (log) Assert.Contains("keyPool.operatorKeyFile", log.ToString());
    }
}
