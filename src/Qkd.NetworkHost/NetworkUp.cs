using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Qkd.Network.Topology;

namespace Qkd.NetworkHost;

/// <summary>What `qkd network up` is asked to do.</summary>
public sealed record NetworkUpOptions
{
    public required string TopologyPath { get; init; }

    /// <summary>The run's folders (one per node); null: network-&lt;topology name&gt; in the working directory. Reused when it exists.</summary>
    public string? StateDirectory { get; init; }

    /// <summary>Seconds of relay load once the network is ready (every link holds key) or the start-up limit passed.</summary>
    public double DurationSeconds { get; init; } = 60;

    /// <summary>The longest wait for every link to hold key before the load starts anyway (generous: links distil on a shared CPU).</summary>
    public double StartupLimitSeconds { get; init; } = 120;

    /// <summary>The first port to try; the network takes 4 per link and one per node (see <see cref="NetworkPlan.PortCount"/>).</summary>
    public int BasePort { get; init; } = 21000;

    public NetworkLinkSettings LinkSettings { get; init; } = new();

    public RelayLoadOptions Load { get; init; } = new();

    /// <summary>How to run `qkd` for the node processes (the binary, or dotnet and qkd.dll).</summary>
    public required IReadOnlyList<string> QkdCommand { get; init; }

    /// <summary>How often a progress line is printed.</summary>
    public TimeSpan ProgressEvery { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>`qkd network up` ended without doing what was asked; <see cref="ExitCode"/> says how.</summary>
public sealed class NetworkUpException(int exitCode, string message, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>
/// The orchestrator behind `qkd network up`: validates the topology, writes (or reuses) one folder per node
/// (<see cref="NetworkPlan"/>), starts one `qkd network node` process per node, waits until every link holds key,
/// drives the relay load for the duration, prints progress (per link key rate and pool, relay throughput), then stops
/// every node (the control line, then SIGKILL after a grace period), collects their results and builds the report.
/// Cancelling (Ctrl-C, SIGTERM) ends the load early and stops the nodes the same way.
/// </summary>
public static class NetworkUp
{
    public const string QkdLinkKeySource =
        "emulated QKD link per link: each link's two ends run in their neighbours' processes as `qkd alice`/`qkd bob` do (emulated devices with the link's physics from net.json, emulated fibre over loopback TCP, decoy-state BB84 distillation) and fill that link's key pool";

    public const string PresharedLinkKeySource =
        "pre-shared random key per link (OS CSPRNG, written by the orchestrator into both ends' folders, loaded once into each end's pool): a stand-in for QKD, NOT quantum key (--link-keys preshared); the default, --link-keys qkd, distils it by each link's emulated QKD link";

    public static string Describe(LinkKeySource source) => source == NetworkHost.LinkKeySource.Qkd ? QkdLinkKeySource : PresharedLinkKeySource;

    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(90);

    /// <summary>Where SAEs reach the nodes' ETSI 014 servers, and their certificates; null when no node serves one.</summary>
    private static string? KeyDeliveryLine(IReadOnlyDictionary<string, string> configs, string directory)
    {
        var servers = configs.Select(c => (Node: c.Key, Delivery: NetworkNodeConfig.FromFile(c.Value).KeyDelivery))
            .Where(c => c.Delivery is not null).Select(c => $"{c.Node} https://{c.Delivery!.ListenAddress}:{c.Delivery.Port}/").ToList();
        return servers.Count == 0 ? null
            : $"ETSI GS QKD 014 (keys relayed between any two SAEs): {string.Join(", ", servers)}; SAE certificates and CA in {Path.Combine(directory, NetworkPlan.SaeFolder)}";
    }

    /// <exception cref="NetworkUpException">A node could not start, or the topology or state folder is wrong.</exception>
    public static async Task<NetworkReport> RunAsync(NetworkUpOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        NetworkTopology topology;
        try { topology = TopologyFile.Load(options.TopologyPath); }
        catch (Exception e) when (e is TopologyException or IOException or UnauthorizedAccessException)
        {
            throw new NetworkUpException(1, OneLine(e.Message), e);
        }
        string directory = Path.GetFullPath(options.StateDirectory ?? $"network-{topology.Name}");
        IReadOnlyDictionary<string, string> configs;
        try
        {
            int basePort = Directory.Exists(directory) ? options.BasePort : NetworkPlan.FindFreePorts(options.BasePort, NetworkPlan.PortCount(topology));
            configs = NetworkPlan.WriteOrReuse(topology, options.TopologyPath, directory, basePort, options.LinkSettings, options.Load);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or InvalidOperationException)
        {
            throw new NetworkUpException(1, OneLine(e.Message), e);
        }
        output.WriteLine($"network {topology.Name}: {topology.Nodes.Count} nodes, {topology.Links.Count} links, one process per node; state in {directory}");
        output.WriteLine($"link key source: {Describe(options.LinkSettings.Source)}");

        var nodes = topology.Nodes.Select(n => NodeProcess.Start(options.QkdCommand, n.Id, configs[n.Id])).ToList();
        string? failure = null;
        double? readyAfter = null, loadSeconds = 0;
        try
        {
            // Every node up (its links' services started, the relay listening), or the first that fails to start.
            while (!nodes.All(n => n.Ready.IsCompletedSuccessfully))
            {
                if (nodes.FirstOrDefault(n => n.Ready.IsFaulted) is { } failed)
                    throw new NetworkUpException(2, $"node {failed.Id} failed to start: {failed.LastLine} (log: {failed.LogPath})");
                if (clock.Elapsed.TotalSeconds > options.StartupLimitSeconds)
                {
                    var slow = nodes.First(n => !n.Ready.IsCompleted);
                    throw new NetworkUpException(2, $"node {slow.Id} did not start within {options.StartupLimitSeconds} s (log: {slow.LogPath})");
                }
                if (cancellationToken.IsCancellationRequested) throw new NetworkUpException(1, "stopped on request while the nodes started");
                await Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
            }
            output.WriteLine($"{Elapsed(clock)} every node is up; waiting for key on every link");
            if (KeyDeliveryLine(configs, directory) is { } etsi) output.WriteLine($"{Elapsed(clock)} {etsi}");

            // Every link holding key and its network channel up, or the start-up limit (the load then starts with what there is).
            var progress = Stopwatch.StartNew();
            while (!cancellationToken.IsCancellationRequested && clock.Elapsed.TotalSeconds < options.StartupLimitSeconds)
            {
                if (nodes.All(n => n.Status?.LinksReady == true)) break;
                if (nodes.FirstOrDefault(n => n.HasExited) is { } gone) throw new NetworkUpException(3, $"node {gone.Id} stopped ({gone.ExitCode}): {gone.LastLine}");
                if (progress.Elapsed >= options.ProgressEvery) { output.WriteLine(Progress(clock, topology, nodes)); progress.Restart(); }
                await Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
            }
            if (nodes.All(n => n.Status?.LinksReady == true)) readyAfter = Math.Round(clock.Elapsed.TotalSeconds, 1);
            output.WriteLine(readyAfter is { } r
                ? $"{Elapsed(clock)} every link holds key (after {r} s); relay load for {options.DurationSeconds} s"
                : $"{Elapsed(clock)} not every link holds key after {options.StartupLimitSeconds} s; relay load for {options.DurationSeconds} s with what there is");
            output.WriteLine(Progress(clock, topology, nodes));

            foreach (var n in nodes) n.Send("load");
            var load = Stopwatch.StartNew();
            progress.Restart();
            while (!cancellationToken.IsCancellationRequested && load.Elapsed.TotalSeconds < options.DurationSeconds)
            {
                if (nodes.FirstOrDefault(n => n.HasExited) is { } gone && failure is null)
                {
                    failure = $"node {gone.Id} stopped during the run ({gone.ExitCode}): {gone.LastLine}";
                    output.WriteLine($"{Elapsed(clock)} {failure}");
                }
                if (progress.Elapsed >= options.ProgressEvery) { output.WriteLine(Progress(clock, topology, nodes)); progress.Restart(); }
                await Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
            }
            loadSeconds = Math.Round(load.Elapsed.TotalSeconds, 1);
            if (cancellationToken.IsCancellationRequested) output.WriteLine($"{Elapsed(clock)} stopped on request");
        }
        finally
        {
            await StopAllAsync(nodes, output, clock);
        }

        var results = nodes.ToDictionary(n => n.Id, ReadResult, StringComparer.Ordinal);
        foreach (var n in nodes)
        {
            if (failure is null && n.ExitCode is not 0) failure = $"node {n.Id} exited {n.ExitCode}: {n.LastLine}";
            if (failure is null && results[n.Id]?.Failure is { } f) failure = $"node {n.Id}: {f}";
        }
        var report = Report(topology, started, clock, readyAfter, loadSeconds ?? 0, nodes, results, failure) with { LinkKeySource = Describe(options.LinkSettings.Source) };
        foreach (var n in nodes) n.Dispose();
        return report;
    }

    private static async Task Delay(TimeSpan delay, CancellationToken cancellationToken)
    {
        try { await Task.Delay(delay, cancellationToken); }
        catch (OperationCanceledException) { }
    }

    /// <summary>Asks every node to stop (it finishes or rolls back its requests and writes its result); kills those still running after the grace period.</summary>
    private static async Task StopAllAsync(IReadOnlyList<NodeProcess> nodes, TextWriter output, Stopwatch clock)
    {
        foreach (var n in nodes) n.Send("stop");
        try { await Task.WhenAll(nodes.Select(n => n.Exited)).WaitAsync(StopGrace); }
        catch (TimeoutException)
        {
            foreach (var n in nodes.Where(n => !n.HasExited))
            {
                output.WriteLine($"{Elapsed(clock)} node {n.Id} did not stop within {StopGrace.TotalSeconds} s: killed");
                n.Kill();
            }
            await Task.WhenAll(nodes.Select(n => n.Exited)).WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    private static NodeResult? ReadResult(NodeProcess node)
    {
        string path = Path.Combine(Path.GetDirectoryName(node.ConfigPath)!, "result.json");
        try
        {
            return File.Exists(path) && File.GetLastWriteTimeUtc(path) >= Process.GetCurrentProcess().StartTime.ToUniversalTime()
                ? JsonSerializer.Deserialize(File.ReadAllText(path), NetworkHostJson.Default.NodeResult)
                : node.Status;
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return node.Status;
        }
    }

    internal static NetworkReport Report(NetworkTopology topology, DateTimeOffset started, Stopwatch clock, double? readyAfter, double loadSeconds,
        IReadOnlyList<NodeProcess> nodes, IReadOnlyDictionary<string, NodeResult?> results, string? failure)
    {
        var all = results.Values.OfType<NodeResult>().ToList();
        var flows = all.SelectMany(r => r.Flows).ToList();
        long relayed = all.Sum(r => r.RelayedKeys);
        long requests = flows.Sum(f => f.Requests);
        LinkResult? End(string node, string link) => results.GetValueOrDefault(node)?.Links.FirstOrDefault(l => l.LinkId == link);
        var links = topology.Links.Select(l =>
        {
            var a = End(l.A, l.Id);
            var b = End(l.B, l.Id);
            return new NetworkLinkReport
            {
                Id = l.Id, A = l.A, B = l.B, DistanceKm = l.DistanceKm, LossDb = Math.Round(l.TotalLossDb, 2),
                DistilledKeys = a?.DistilledKeys ?? b?.DistilledKeys ?? 0,
                DistilledBitsPerSecond = a?.DistilledBitsPerSecond ?? b?.DistilledBitsPerSecond ?? 0,
                PoolKeysA = a?.PoolAvailableAsMaster ?? 0,
                PoolKeysB = b?.PoolAvailableAsMaster ?? 0,
                LinkKeyUsedBytes = (a?.LinkKeySentBytes ?? 0) + (b?.LinkKeySentBytes ?? 0),
            };
        }).ToList();
        long linkKeySent = all.SelectMany(r => r.Links).Sum(l => l.LinkKeySentBytes);
        if (failure is null && relayed == 0 && topology.Nodes.Any(n => RelayLoad.Destinations(topology, n.Id, new RelayLoadOptions()).Any() && n.Saes.Count > 0))
            failure = "no key was relayed between non-adjacent nodes";
        return new NetworkReport
        {
            RelayedKeys = relayed,
            KeysPerSecond = loadSeconds > 0 ? Math.Round(relayed / loadSeconds, 2) : 0,
            Requests = requests,
            RequestsCommitted = flows.Sum(f => f.Committed),
            RequestsFailed = flows.Sum(f => f.Failed),
            MeanHops = requests == 0 ? 0 : Math.Round(flows.Sum(f => f.MeanHops * f.Requests) / requests, 2),
            MaxHops = flows.Count == 0 ? 0 : flows.Max(f => f.MaxHops),
            LinkKeyBytesPerRelayedKey = relayed == 0 ? 0 : Math.Round((double)linkKeySent / relayed, 1),
            Topology = topology.Name,
            NodeCount = topology.Nodes.Count,
            LinkCount = topology.Links.Count,
            LinkKeySource = "",
            StartedAt = started,
            NetworkReadyAfterSeconds = readyAfter,
            LoadSeconds = loadSeconds,
            WallClockSeconds = Math.Round(clock.Elapsed.TotalSeconds, 1),
            Failure = failure,
            Links = links,
            Nodes = nodes.Select(n => new NetworkNodeReport { Id = n.Id, ExitCode = n.ExitCode, Log = n.LogPath, Result = results.GetValueOrDefault(n.Id) }).ToList(),
        };
    }

    /// <summary>One progress line: per link distilled key rate and the pools at both ends, and the relay so far.</summary>
    private static string Progress(Stopwatch clock, NetworkTopology topology, IReadOnlyList<NodeProcess> nodes)
    {
        var status = nodes.ToDictionary(n => n.Id, n => n.Status, StringComparer.Ordinal);
        var parts = topology.Links.Select(l =>
        {
            var a = status.GetValueOrDefault(l.A)?.Links.FirstOrDefault(x => x.LinkId == l.Id);
            var b = status.GetValueOrDefault(l.B)?.Links.FirstOrDefault(x => x.LinkId == l.Id);
            return string.Create(CultureInfo.InvariantCulture,
                $"{l.Id} {(a?.DistilledBitsPerSecond ?? 0) / 1000:0.0} kb/s pool {a?.PoolAvailableAsMaster ?? 0}/{b?.PoolAvailableAsMaster ?? 0}{(a?.NeighbourLinkUp == true ? "" : " (channel down)")}");
        });
        long relayed = status.Values.Sum(s => s?.RelayedKeys ?? 0);
        double load = status.Values.Max(s => s?.LoadSeconds ?? 0);
        string rate = load > 0 ? string.Create(CultureInfo.InvariantCulture, $" ({relayed / load:0.0}/s)") : "";
        return $"{Elapsed(clock)} {string.Join(" | ", parts)} | relayed {relayed} keys{rate}";
    }

    private static string Elapsed(Stopwatch clock) => string.Create(CultureInfo.InvariantCulture, $"[{clock.Elapsed.TotalSeconds,5:0}s]");

    private static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
