using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using Qkd.NetworkHost;

namespace Qkd.Cli.Commands;

/// <summary>
/// `qkd network up --topology net.json`: a network of trusted nodes on this machine, one process per node
/// (Qkd.NetworkHost's orchestrator); `qkd network node --config network-node.json`: one of those nodes.
/// </summary>
public static class NetworkCommand
{
    public static Command Create() => new("network", "A network of trusted nodes: QKD links between neighbours and key relay across them.")
    {
        Up(),
        NodeCommand(),
    };

    private static Command Up()
    {
        var topology = new Option<FileInfo>("--topology") { Description = "The network (net.json: nodes, their SAEs, links with their physics).", Required = true };
        var duration = new Option<double>("--duration-s") { Description = "Seconds of relay load once every link holds key.", DefaultValueFactory = _ => 60 };
        var startup = new Option<double>("--startup-limit-s") { Description = "Longest wait (from start) for every link to hold key; the load then starts with what there is.", DefaultValueFactory = _ => 120 };
        var report = new Option<FileInfo>("--report") { Description = "Write the run's report (JSON: relayed keys, throughput, hops, per link and per node) here." };
        var stateDir = new Option<DirectoryInfo>("--state-dir") { Description = "The nodes' folders (default: network-<name> here); an existing one is run again on its state." };
        var basePort = new Option<int>("--base-port") { Description = "First port to try; 4 per link and 1 per node (its ETSI 014 server) on loopback, below 32000.", DefaultValueFactory = _ => 21000 };
        var keysPerRequest = new Option<int>("--keys-per-request") { Description = "Keys per relay request (1..64).", DefaultValueFactory = _ => 1 };
        var concurrency = new Option<int>("--concurrency") { Description = "Relay requests in flight per origin node (1..64).", DefaultValueFactory = _ => 2 };
        var linkKeys = new Option<string>("--link-keys")
        {
            Description = "Where link key comes from: qkd (the default: each link's emulated QKD link between its two node processes distils it; " +
                          "the first key comes after the link's first block, seconds when idle, a few minutes on a loaded machine) or preshared " +
                          "(random key written into both ends' folders: a stand-in that is NOT QKD, for trying the relay without the links' CPU; " +
                          "said so in the output and report).",
            DefaultValueFactory = _ => "qkd",
        };
        linkKeys.AcceptOnlyFromAmong("preshared", "qkd");
        var blockSize = new Option<long>("--block-size") { Description = "Sifted bits per privacy-amplification block on every link.", DefaultValueFactory = _ => 1L << 18 };
        var up = new Command("up", "Run the network on this machine, one process per node: each link distils key between its two nodes' processes, " +
                                   "keys are relayed between non-adjacent nodes; prints per link key rate and pool and the relay throughput. Each node with SAEs serves " +
                                   "ETSI GS QKD 014 for keys relayed between any two SAEs (addresses printed; SAE certificates in <state-dir>/saes). Ctrl-C stops it.")
        {
            topology, duration, startup, report, stateDir, basePort, keysPerRequest, concurrency, linkKeys, blockSize,
        };
        up.SetAction(async (parse, cancellationToken) =>
        {
            TextWriter output = parse.InvocationConfiguration.Output, error = parse.InvocationConfiguration.Error;
            var load = new RelayLoadOptions { KeysPerRequest = parse.GetValue(keysPerRequest), Concurrency = parse.GetValue(concurrency) };
            var problems = load.Problems().ToList();
            double seconds = parse.GetValue(duration);
            if (!(seconds > 0)) problems.Add($"--duration-s {seconds} must be positive");
            int port = parse.GetValue(basePort);
            if (port is < 1024 or >= 32000) problems.Add($"--base-port {port} must lie in 1024..31999");
            if (problems.Count > 0)
            {
                error.WriteLine($"error: {string.Join("; ", problems)}");
                return 1;
            }
            var options = new NetworkUpOptions
            {
                TopologyPath = parse.GetValue(topology)!.FullName,
                StateDirectory = parse.GetValue(stateDir)?.FullName,
                DurationSeconds = seconds,
                StartupLimitSeconds = parse.GetValue(startup),
                BasePort = port,
                Load = load,
                LinkSettings = new NetworkLinkSettings(BlockSizeBits: parse.GetValue(blockSize),
                    Source: parse.GetValue(linkKeys) == "qkd" ? LinkKeySource.Qkd : LinkKeySource.Preshared),
                QkdCommand = SelfCommand(),
            };
            NetworkReport result;
            try
            {
                result = await NetworkUp.RunAsync(options, output, cancellationToken);
            }
            catch (NetworkUpException e)
            {
                error.WriteLine($"error: {e.Message}");
                return e.ExitCode;
            }
            if (parse.GetValue(report) is { } file)
                await File.WriteAllTextAsync(file.FullName, JsonSerializer.Serialize(result, NetworkHostJson.Indented.NetworkReport), CancellationToken.None);
            output.WriteLine($"relayed {result.RelayedKeys} keys in {result.LoadSeconds} s ({result.KeysPerSecond}/s), {result.RequestsCommitted} of {result.Requests} requests, " +
                             $"mean {result.MeanHops} hops (max {result.MaxHops}), {result.LinkKeyBytesPerRelayedKey} bytes of link key per key");
            foreach (var l in result.Links)
                output.WriteLine($"  link {l.Id}: {l.DistilledKeys} keys into the pools ({l.DistilledBitsPerSecond / 1000:0.0} kb/s distilled), pool {l.PoolKeysA}/{l.PoolKeysB}, {l.LinkKeyUsedBytes} bytes used by relays");
            if (result.Failure is { } failure)
            {
                error.WriteLine($"error: {failure}");
                return 1;
            }
            return 0;
        });
        return up;
    }

    private static Command NodeCommand()
    {
        var config = new Option<FileInfo>("--config") { Description = "The node's network-node.json (written by `qkd network up`, or by hand for a gateway).", Required = true };
        var verbose = new Option<bool>("--verbose") { Description = "Log every relay and session step." };
        var control = new Option<string>("--control")
        {
            Description = "stdin: standard input controls the node (`load` starts its relay load, `stop` or end of input stops it; how " +
                          "`qkd network up` drives its nodes); none: standard input is ignored and the node runs until SIGTERM or Ctrl-C " +
                          "(a service). Default: none under systemd, stdin elsewhere.",
        };
        control.AcceptOnlyFromAmong("stdin", "none");
        var node = new Command("node", "Run one trusted node of a network: a QKD link end per neighbour, the key relay over them. " +
                                       "Under systemd (Type=notify) it says READY=1 once it is up and ignores standard input.")
        {
            config, verbose, control,
        };
        node.SetAction(async (parse, cancellationToken) =>
        {
            TextWriter output = parse.InvocationConfiguration.Output, error = parse.InvocationConfiguration.Error;
            NetworkNodeConfig nodeConfig;
            try { nodeConfig = NetworkNodeConfig.FromFile(parse.GetValue(config)!.FullName); }
            catch (InvalidDataException e)
            {
                error.WriteLine($"error: {e.Message}");
                return NodeExitCode.Configuration;
            }
            bool underSystemd = SystemdHelpers.IsSystemdService();
            using var loggers = LoggerFactory.Create(b =>
            {
                // The journal's format under systemd (a <priority> prefix, no timestamp: the journal adds its own).
                if (underSystemd) b.AddSystemdConsole();
                else b.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
                b.SetMinimumLevel(parse.GetValue(verbose) ? LogLevel.Debug : LogLevel.Information);
                b.AddFilter("Microsoft", LogLevel.Warning);
            });
            TextReader controlInput = (parse.GetValue(control) ?? (underSystemd ? "none" : "stdin")) == "stdin" ? Console.In : new IdleControlInput();
            // Type=notify: READY=1 once the node is up, STOPPING=1 when it is told to stop (NOTIFY_SOCKET unset: nothing).
            var notifier = new SystemdNotifier();
            using var stopping = cancellationToken.Register(() => { if (notifier.IsEnabled) notifier.Notify(ServiceState.Stopping); });
            try
            {
                var result = await NetworkNode.RunAsync(nodeConfig, loggers, controlInput, output, cancellationToken,
                    ready: () => { if (notifier.IsEnabled) notifier.Notify(ServiceState.Ready); });
                if (result.Failure is { } failure)
                {
                    error.WriteLine($"error: {failure}");
                    return NodeExitCode.Failed;
                }
                return NodeExitCode.Stopped;
            }
            catch (NetworkNodeStartupException e)
            {
                error.WriteLine($"error: {e.Message}");
                return NodeExitCode.Configuration;
            }
        });
        return node;
    }

    /// <summary>How to run this same `qkd` again: the published binary itself, or `dotnet qkd.dll`.</summary>
    private static string[] SelfCommand()
    {
        string process = Environment.ProcessPath ?? throw new InvalidOperationException("the path of this process is unknown");
        return Path.GetFileNameWithoutExtension(process) == "dotnet"
            // Under `dotnet qkd.dll` the entry assembly is a file beside this one; Assembly.Location would be empty in a
            // single-file or Native AOT publish, where the process itself is the binary and the other branch applies.
            ? [process, Path.Combine(AppContext.BaseDirectory, System.Reflection.Assembly.GetEntryAssembly()!.GetName().Name + ".dll")]
            : [process];
    }
}
