using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Qkd.Cli.Commands;
using Qkd.NetworkHost;
using Qkd.Network.Topology;

namespace Qkd.Cli.Tests;

/// <summary>
/// `qkd network node` as systemd runs it (qkd-network-node@.service): standard input at end of file from the start, as
/// /dev/null is, NOTIFY_SOCKET a datagram socket this test holds in systemd's place. The node must not take the end of
/// its input for "stop": it says READY=1 once up, keeps running, and stops on SIGTERM with STOPPING=1.
/// Its neighbour runs in this process (<see cref="NetworkNode.RunAsync"/>), pre-shared link keys.
/// </summary>
public sealed class NetworkNodeServiceTests : IAsyncDisposable
{
    private static readonly TimeSpan GiveUp = TimeSpan.FromSeconds(240);
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-network-service-").FullName;
    private readonly string _socketPath = Path.Combine(Path.GetTempPath(), $"qkd-nn-{Guid.NewGuid():N}"[..20] + ".sock");
    private readonly Socket _notify = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly CancellationTokenSource _stopNeighbour = new();
    private Process? _process;
    private Task<NodeResult>? _neighbour;

    private const string Pair = """
        {
          "name": "service-pair", "keySizeBits": 256,
          "nodes": [ { "id": "a", "saes": ["sae-a"] }, { "id": "b", "saes": ["sae-b"] } ],
          "links": [ { "id": "a-b", "a": "a", "b": "b", "distanceKm": 10 } ]
        }
        """;

    public NetworkNodeServiceTests() => _notify.Bind(new UnixDomainSocketEndPoint(_socketPath));

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false }) _process.Kill(entireProcessTree: true);
        _process?.Dispose();
        await _stopNeighbour.CancelAsync();
        if (_neighbour is not null) try { await _neighbour; } catch (Exception) { /* its failure, if any, was asserted on */ }
        _notify.Dispose();
        File.Delete(_socketPath);
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [Fact(Timeout = 600_000)]
    public async Task Under_systemd_the_node_ignores_the_end_of_its_input_says_ready_and_stops_on_SIGTERM()
    {
        string topologyPath = Path.Combine(_dir, "net.json");
        await File.WriteAllTextAsync(topologyPath, Pair, TestContext.Current.CancellationToken);
        var topology = TopologyFile.Load(topologyPath);
        int basePort = NetworkPlan.FindFreePorts(FreePorts.Block(16), NetworkPlan.PortCount(topology));
        var configs = NetworkPlan.Write(topology, topologyPath, Path.Combine(_dir, "run"), basePort,
            new NetworkLinkSettings(Source: LinkKeySource.Preshared), new RelayLoadOptions());
        var neighbourConfig = NetworkNodeConfig.FromFile(configs["b"]);
        _neighbour = Task.Run(() => NetworkNode.RunAsync(neighbourConfig, NullLoggerFactory.Instance, new IdleControlInput(), TextWriter.Null, _stopNeighbour.Token));

        var log = new StringBuilder();
        _process = StartUnderNotify(configs["a"], log);
        Assert.Contains("READY=1", await NextNotification(log));

        // Still running after its input ended: it goes on to report status (every 2 s); with stdin as control it
        // would have stopped at once, before any status line.
        await WaitForOutput($"{NetworkNode.Marker} status", log);
        Assert.False(_process.HasExited, log.ToString());

        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString()])) await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.Contains("STOPPING=1", await NextNotification(log));
        await _process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(GiveUp, TestContext.Current.CancellationToken);
        lock (log) Assert.True(_process.ExitCode == 0, $"exit {_process.ExitCode}:\n{log}");
        lock (log) Assert.Contains("<6>qkd.network.a", log.ToString()); // the journal's format: priority prefix
    }

    /// <summary>`qkd network node --config ...` through a shell that sets SYSTEMD_EXEC_PID to its own PID, then execs.</summary>
    private Process StartUnderNotify(string config, StringBuilder log)
    {
        var info = new ProcessStartInfo("/bin/sh")
        {
            WorkingDirectory = _dir,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("SYSTEMD_EXEC_PID=$$; export SYSTEMD_EXEC_PID; exec dotnet \"$@\"");
        info.ArgumentList.Add("sh");
        foreach (string arg in new[] { Path.Combine(AppContext.BaseDirectory, "qkd.dll"), "network", "node", "--config", config })
            info.ArgumentList.Add(arg);
        info.Environment["NOTIFY_SOCKET"] = _socketPath;
        var process = Process.Start(info)!;
        process.StandardInput.Close(); // as /dev/null: end of input from the start
        process.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); Monitor.PulseAll(log); } };
        process.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); Monitor.PulseAll(log); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private async Task WaitForOutput(string fragment, StringBuilder log)
    {
        var deadline = DateTime.UtcNow + GiveUp;
        await Task.Run(() =>
        {
            lock (log)
                while (!log.ToString().Contains(fragment))
                {
                    Assert.False(_process!.HasExited, $"the node exited before \"{fragment}\":\n{log}");
                    Assert.True(DateTime.UtcNow < deadline, $"no \"{fragment}\" within {GiveUp}:\n{log}");
                    Monitor.Wait(log, TimeSpan.FromMilliseconds(500));
                }
        }, TestContext.Current.CancellationToken);
    }

    private async Task<string> NextNotification(StringBuilder log)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(GiveUp);
        var buffer = new byte[4096];
        var receive = _notify.ReceiveAsync(buffer, SocketFlags.None, deadline.Token).AsTask();
        var exited = _process!.WaitForExitAsync(deadline.Token);
        await Task.WhenAny(receive, exited);
        if (!receive.IsCompleted) await Task.WhenAny(receive, Task.Delay(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken));
        if (!receive.IsCompletedSuccessfully)
        {
            await deadline.CancelAsync();
            lock (log) Assert.Fail($"no notification (node {(_process.HasExited ? $"exited {_process.ExitCode}" : "still running")}):\n{log}");
        }
        return Encoding.UTF8.GetString(buffer, 0, await receive);
    }
}
