using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Qkd.ClassicalChannel;
using Qkd.Core.Bits;
using Qkd.Kme.Pool;
using Qkd.Kme.Tests.Delivery;
using Qkd.Node.Service;

/// <summary>
/// --deployed: the two KMEs as an operator runs them. `qkd node init` writes the deployment into a temporary folder,
/// both durable pools get the same blocks (as two distillers would have stored them), and `qkd bob` and `qkd alice` run
/// as two processes with their ETSI servers and the KME link between them. Key generation idles (Alice's session
/// channel points where nobody listens), so the nodes' CPU goes to key delivery and the KME link only.
/// </summary>
sealed class DeployedNodes : IAsyncDisposable
{
    private readonly string _directory;
    private readonly Dictionary<string, Process> _nodes = [];
    private readonly Dictionary<string, long> _lines = [];
    private readonly Dictionary<string, List<string>> _notable = [];
    private readonly X509Certificate2 _ca;

    private DeployedNodes(string directory, int basePort)
    {
        _directory = directory;
        AlicePort = basePort + 3;
        BobPort = basePort + 4;
        _ca = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(directory, "ca.pem"));
    }

    public int AlicePort { get; }

    public int BobPort { get; }

    public TimeSpan TotalProcessorTime
    {
        get
        {
            var total = TimeSpan.Zero;
            foreach (var node in _nodes.Values)
            {
                node.Refresh();
                total += node.TotalProcessorTime;
            }
            return total;
        }
    }

    public static async Task<DeployedNodes> StartAsync(long keysNeeded, bool verbose)
    {
        string directory = Directory.CreateTempSubdirectory("qkd-kd-deployed-").FullName;
        int basePort = Qkd.Cli.Tests.FreePorts.Block(6);
        NodeSetup.Write(directory, basePort, durationSeconds: 0.4, sessions: 0, blockSizeBits: 1 << 20);
        // A larger pre-shared secret: key generation idles, so nothing replenishes the pad the KME link's tags use.
        string secret = Path.Combine(directory, "pre-shared.secret");
        File.Delete(secret);
        using (var f = new FileStream(secret, new FileStreamOptions
               {
                   Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
               }))
            f.Write(RandomNumberGenerator.GetBytes(AuthenticationPadStore.HashKeyBytes + (64 << 20)));
        foreach (string role in new[] { "alice", "bob" })
        {
            var config = JsonNode.Parse(File.ReadAllText(Path.Combine(directory, role + ".json")))!;
            if (role == "alice") config["classicalChannel"]!["endpoint"] = $"127.0.0.1:{basePort + 5}"; // key generation idles
            config["metrics"] = new JsonObject { ["listen"] = "127.0.0.1:0" }; // the group commit's figures, scraped below
            File.WriteAllText(Path.Combine(directory, role + ".json"), config.ToJsonString());
        }

        var fill = Stopwatch.StartNew();
        const int keysPerBlock = 1024;
        int blocks = (int)((2 * keysNeeded + keysPerBlock - 1) / keysPerBlock); // half of each block is mastered by Alice's KME
        var pools = new[] { ("alice", KmeRole.Alice), ("bob", KmeRole.Bob) }.Select(r =>
        {
            using var key = OperatorKey.FromFile(Path.Combine(directory, $"{r.Item1}-operator.key"));
            return new SqliteKeyPool(new SqliteKeyPoolOptions
            {
                DatabasePath = Path.Combine(directory, $"{r.Item1}-keys.db"), LinkId = "demo-link", Role = r.Item2, Durability = KeyPoolDurability.Normal,
            }, key);
        }).ToArray();
        var bytes = new byte[keysPerBlock * 32];
        for (int b = 0; b < blocks; b++)
        {
            RandomNumberGenerator.Fill(bytes);
            foreach (var pool in pools) pool.Accept((1L << 60) + b, PackedBits.FromBytes(bytes, bytes.Length * 8L));
        }
        foreach (var pool in pools) pool.Dispose();
        Console.WriteLine($"node pools filled: {blocks * keysPerBlock / 2:N0} keys mastered by each KME in {fill.Elapsed.TotalSeconds:F1} s");

        var nodes = new DeployedNodes(directory, basePort);
        nodes.Start("bob", verbose);
        nodes.Start("alice", verbose);
        await nodes.WaitForLinkAsync(TimeSpan.FromMinutes(3));
        Console.WriteLine($"nodes up in {directory} (ETSI at :{nodes.AlicePort} and :{nodes.BobPort}, KME link :{basePort + 1})");
        return nodes;
    }

    public HttpClient Client(string sae, int port, Version version) => KmeLink.CreateClient(new Uri($"https://127.0.0.1:{port}"),
        X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(_directory, sae + ".pfx"), null), _ca, version);

    private readonly Dictionary<string, Uri> _metrics = [];

    /// <summary>
    /// The sums and counts of each node's histograms of the key pool (group commit: operations per commit, staging,
    /// commit, scrub) and of key delivery (time waiting for the pool, for the peer's reservation), from its Prometheus
    /// endpoint, by node, histogram and operation.
    /// </summary>
    public async Task<Dictionary<string, double>> ScrapeAsync()
    {
        var totals = new Dictionary<string, double>();
        using var http = new HttpClient();
        foreach (var (role, uri) in _metrics)
            foreach (string line in (await http.GetStringAsync(uri)).Split('\n'))
            {
                if (!line.StartsWith("qkd_keypool_", StringComparison.Ordinal) && !line.StartsWith("qkd_delivery_", StringComparison.Ordinal)) continue;
                int brace = line.IndexOf('{'), space = line.LastIndexOf(' ');
                string name = line[..(brace > 0 ? brace : line.IndexOf(' '))];
                if (!(name.EndsWith("_sum") || name.EndsWith("_count"))) continue;
                int at = line.IndexOf("operation=\"", StringComparison.Ordinal);
                string operation = at < 0 ? "" : " " + line[(at + 11)..line.IndexOf('"', at + 11)];
                string key = $"{role} {name}{operation}";
                totals[key] = totals.GetValueOrDefault(key) + double.Parse(line[(space + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }
        return totals;
    }

    /// <summary>
    /// Per node over the measured window: the writer's time (commits per second, operations per commit, staging,
    /// commit and scrub per second of wall time), and the mean time requests waited for the pool and for the peer.
    /// </summary>
    public async Task ReportCommitsAsync(Dictionary<string, double> before, double wall)
    {
        var after = await ScrapeAsync();
        double Delta(string key) => after.GetValueOrDefault(key) - before.GetValueOrDefault(key);
        string? Find(string role, string part) => after.Keys.FirstOrDefault(k => k.StartsWith(role + " ") && k.Contains(part) && k.EndsWith("_sum"));
        (double Count, double Sum) Histogram(string? sumKey) => sumKey is null ? (0, 0) : (Delta(sumKey.Replace("_sum", "_count")), Delta(sumKey));
        foreach (string role in _metrics.Keys.Order())
        {
            var (commits, operations) = Histogram(Find(role, "commit_batch_operations"));
            var (_, commitSeconds) = Histogram(Find(role, "commit_duration"));
            var (_, stageSeconds) = Histogram(Find(role, "stage_duration"));
            var (scrubs, scrubSeconds) = Histogram(Find(role, "scrub_duration"));
            Console.WriteLine($"node {role} group commit: {commits / wall:N0} commits/s, {operations / Math.Max(1, commits):F1} operations per commit, " +
                              $"commit {commitSeconds * 1e6 / Math.Max(1, commits):F0} us each; writer busy: staging {stageSeconds / wall:P0}, " +
                              $"committing {commitSeconds / wall:P0}, scrubbing {scrubSeconds / wall:P0} ({scrubs / wall:F1} truncating checkpoints/s, " +
                              $"{scrubSeconds * 1e3 / Math.Max(1, scrubs):F1} ms each)");
            foreach (string part in new[] { "pool_duration_seconds_sum enc_keys", "reservation_duration_seconds_sum enc_keys", "pool_duration_seconds_sum dec_keys" })
            {
                string? key = after.Keys.FirstOrDefault(k => k.StartsWith(role + " ") && k.EndsWith(part));
                if (key is null) continue;
                var (count, sum) = (Delta(key.Replace("_sum", "_count")), Delta(key));
                if (count > 0)
                    Console.WriteLine($"node {role} {part.Split(' ')[1]} waits for the {(part.StartsWith("pool") ? "pool" : "peer's record")}: mean {sum * 1e3 / count:F2} ms over {count:N0} requests");
            }
        }
    }

    /// <summary>Log lines the nodes wrote during the run, and any warning or failure among them.</summary>
    public void Report(double wall)
    {
        lock (_lines)
            foreach (var (role, lines) in _lines)
            {
                Console.WriteLine($"node {role}: {lines:N0} log lines, {_notable[role].Count} warnings/failures");
                foreach (string line in _notable[role].Take(5)) Console.WriteLine("  " + (line.Length > 300 ? line[..300] : line));
            }
    }

    private void Start(string role, bool verbose)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = _directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string a in new[] { Path.Combine(AppContext.BaseDirectory, "qkd.dll"), role, "--config", role + ".json" }) start.ArgumentList.Add(a);
        if (verbose) start.ArgumentList.Add("--verbose");
        var process = Process.Start(start)!;
        _nodes[role] = process;
        // Whatever ends this tool (an exception included), the nodes end with it.
        void Stop()
        {
            try { if (!process.HasExited) process.Kill(); } catch (InvalidOperationException) { }
        }
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop();
        AppDomain.CurrentDomain.UnhandledException += (_, _) => Stop();
        lock (_lines)
        {
            _lines[role] = 0;
            _notable[role] = [];
        }
        void OnLine(string? line)
        {
            if (line is null) return;
            lock (_lines)
            {
                _lines[role]++;
                if (line.Contains(" warn:") || line.Contains(" fail:") || line.Contains(" crit:") || line.StartsWith("error")) _notable[role].Add(line);
                // Ready: the ETSI server listens (it starts after the KME link) and the link is up.
                if (line.Contains("KME link up")) _linkUp.Add(role + " link");
                if (line.IndexOf("Prometheus metrics on ", StringComparison.Ordinal) is int at and >= 0) _metrics[role] = new Uri(line[(at + "Prometheus metrics on ".Length)..].Trim());
                if (line.Contains("key delivery on")) _linkUp.Add(role + " server");
                Monitor.PulseAll(_lines);
            }
        }
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>Waits until both nodes logged that the KME link is up (or one exits).</summary>
    private Task WaitForLinkAsync(TimeSpan timeout) => Task.Run(() =>
    {
        var deadline = DateTime.UtcNow + timeout;
        lock (_lines)
            while (_linkUp.Count < 2 * _nodes.Count)
            {
                foreach (var (role, node) in _nodes)
                    if (node.HasExited) throw new InvalidOperationException($"qkd {role} exited ({node.ExitCode}): {string.Join("\n", _notable[role])}");
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"the KME link did not come up within {timeout}");
                Monitor.Wait(_lines, TimeSpan.FromMilliseconds(500));
            }
    });

    private readonly HashSet<string> _linkUp = [];

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes.Values)
        {
            if (node.HasExited) continue;
            using var kill = Process.Start("kill", ["-TERM", node.Id.ToString()]);
            await kill.WaitForExitAsync();
        }
        foreach (var node in _nodes.Values)
        {
            await node.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(_ => { });
            if (!node.HasExited) node.Kill();
            node.Dispose();
        }
        _ca.Dispose();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}
