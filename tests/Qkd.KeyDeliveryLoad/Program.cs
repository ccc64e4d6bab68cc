// Key pairs/s delivered through the ETSI GS QKD 014 API and latency under concurrent clients, on loopback.
// One pair = enc_keys at Alice's KME (master SAE) + dec_keys at Bob's KME (slave SAE) for the same key_IDs, the bytes
// compared. By default both KMEs and all clients share this process; --split runs the two KMEs in a child process so
// the KMEs' CPU per pair is measured apart from the clients'. --deployed runs the KMEs as deployed instead: two real
// nodes (`qkd bob`, `qkd alice` from `qkd node init`, durable pools, the KME link over the authenticated TCP channel),
// their pools filled with the same blocks and key generation idle, so every enc_keys crosses the real KME link.
//
//   dotnet run -c Release --project tests/Qkd.KeyDeliveryLoad -- [--clients 16] [--seconds 10] [--warmup 2]
//       [--number 1] [--pool memory|sqlite-full|sqlite-normal] [--http 1.1|2] [--keys total keys in each pool] [--split]
//       [--deployed [--verbose-nodes]]
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Qkd.Kme.Pool;
using Qkd.Kme.Tests.Delivery;
using Qkd.Node.Service;

var settings = Settings.Parse(args);
if (settings.ServeDirectory is { } serveDirectory)
    return await Serve(serveDirectory);

Console.WriteLine($"clients {settings.Clients}, {settings.Seconds} s (+{settings.Warmup} s warm-up), {settings.Number} key(s) of 256 bits per request, " +
                  $"pool {settings.Pool}, HTTP/{settings.Http}, KMEs {(settings.Split ? "in a child process" : "in this process")}, {Environment.ProcessorCount} cores");
var version = settings.Http == "2" ? HttpVersion.Version20 : HttpVersion.Version11;
HttpClient[] masters, slaves;
Process? kmes = null;
KmeLink? link = null;
TestCertificates? certificates = null;
var fill = Stopwatch.StartNew();
string[] masterIds = KmeLink.AliceSaeIds, slaveIds = KmeLink.BobSaeIds;
DeployedNodes? nodes = null;
if (settings.Deployed)
{
    nodes = await DeployedNodes.StartAsync(settings.KeysNeeded, settings.VerboseNodes);
    masterIds = [NodeSetup.MasterSae];
    slaveIds = [NodeSetup.SlaveSae];
    masters = [nodes.Client(NodeSetup.MasterSae, nodes.AlicePort, version)];
    slaves = [nodes.Client(NodeSetup.SlaveSae, nodes.BobPort, version)];
}
else if (settings.Split)
{
    string directory = Directory.CreateTempSubdirectory("qkd-kd-load-").FullName;
    var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardInput = true, RedirectStandardOutput = true };
    if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        start.ArgumentList.Add(typeof(Settings).Assembly.Location);
    foreach (string a in new[] { "--serve", directory, "--pool", settings.Pool, "--keys", settings.KeysNeeded.ToString(), "--number", settings.Number.ToString() })
        start.ArgumentList.Add(a);
    kmes = Process.Start(start)!;
    string? ready;
    while ((ready = await kmes.StandardOutput.ReadLineAsync()) is not null && !ready.StartsWith("READY ")) Console.WriteLine("  kmes: " + ready);
    if (ready is null) { Console.Error.WriteLine("the KME process ended before it was ready"); return 2; }
    var ports = ready.Split(' ');
    var ca = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(directory, "ca.pem")); // lives as long as the clients
    HttpClient ClientOf(string sae, string port) => KmeLink.CreateClient(new Uri($"https://127.0.0.1:{port}"),
        X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(directory, sae + ".pfx"), null), ca, version);
    masters = KmeLink.AliceSaeIds.Select(id => ClientOf(id, ports[1])).ToArray();
    slaves = KmeLink.BobSaeIds.Select(id => ClientOf(id, ports[2])).ToArray();
}
else
{
    certificates = new TestCertificates();
    link = await StartKmes(certificates);
    masters = KmeLink.AliceSaeIds.Select(id => link.Client(link.Alice, link.SaeCertificates[id], version)).ToArray();
    slaves = KmeLink.BobSaeIds.Select(id => link.Client(link.Bob, link.SaeCertificates[id], version)).ToArray();
    Console.WriteLine($"pools filled: {link.AlicePool.AvailableAsMaster:N0} keys mastered by Alice's KME");
}
Console.WriteLine($"KMEs ready after {fill.Elapsed.TotalSeconds:F1} s");

// The durable pools' group commit (in-process KMEs only): operations per transaction and commit time, per role.
var commits = new CommitTally();
using var commitListener = new MeterListener();
commitListener.InstrumentPublished = (instrument, l) =>
{
    if (instrument.Meter.Name == KeyPoolMetrics.MeterName && instrument.Name is "qkd.keypool.commit_batch_operations" or "qkd.keypool.commit_duration")
        l.EnableMeasurementEvents(instrument);
};
commitListener.SetMeasurementEventCallback<int>((_, value, tags, _) => commits.Add(RoleOf(tags), operations: value, seconds: 0));
commitListener.SetMeasurementEventCallback<double>((_, value, tags, _) => commits.Add(RoleOf(tags), operations: 0, seconds: value));
commitListener.Start();

long measureFrom = Stopwatch.GetTimestamp() + settings.Warmup * Stopwatch.Frequency;
long stopAt = measureFrom + settings.Seconds * Stopwatch.Frequency;
var workers = Enumerable.Range(0, settings.Clients).Select(w => Task.Run(() => Worker(w))).ToArray();
// CPU time over the measured window: a figure other load on the machine disturbs less than the rate.
await Task.Delay(TimeSpan.FromSeconds(settings.Warmup));
var self = Process.GetCurrentProcess();
var cpuFrom = self.TotalProcessorTime;
commits.Reset();
var nodeCommitsFrom = nodes is null ? null : await nodes.ScrapeAsync();
var kmeCpuFrom = kmes?.TotalProcessorTime ?? nodes?.TotalProcessorTime ?? TimeSpan.Zero;
var wallFrom = Stopwatch.GetTimestamp();
var results = await Task.WhenAll(workers);
self.Refresh();
var cpu = self.TotalProcessorTime - cpuFrom;
kmes?.Refresh();
var kmeCpu = kmes is not null ? kmes.TotalProcessorTime - kmeCpuFrom : nodes is not null ? nodes.TotalProcessorTime - kmeCpuFrom : TimeSpan.Zero;
double wall = Stopwatch.GetElapsedTime(wallFrom).TotalSeconds;
commitListener.Dispose();

long pairs = results.Sum(r => r.Pairs);
var enc = Merge(results.Select(r => r.Enc));
var dec = Merge(results.Select(r => r.Dec));
var pair = Merge(results.Select(r => r.Pair));
Console.WriteLine($"key pairs delivered: {pairs:N0} in {settings.Seconds} s = {pairs / (double)settings.Seconds:N0} pairs/s " +
                  $"({pair.Length / (double)settings.Seconds:N0} enc+dec request pairs/s), mismatches {results.Sum(r => r.Mismatches)}, errors {results.Sum(r => r.Errors)}");
double PerPair(TimeSpan t) => t.TotalMilliseconds * 1000 / Math.Max(1, pairs);
if (kmes is null && nodes is null)
    Console.WriteLine($"CPU (both KMEs and all clients): {PerPair(cpu):F1} us per key pair, {cpu.TotalSeconds / wall:F2} cores busy of {Environment.ProcessorCount}");
else
    Console.WriteLine($"CPU: both KMEs {PerPair(kmeCpu):F1} us per key pair ({kmeCpu.TotalSeconds / wall:F2} cores), " +
                      $"clients {PerPair(cpu):F1} us per key pair ({cpu.TotalSeconds / wall:F2} cores), of {Environment.ProcessorCount} cores");
Report("enc_keys", enc);
Report("dec_keys", dec);
Report("pair (enc+dec)", pair);
commits.Report(wall);
if (nodes is not null) await nodes.ReportCommitsAsync(nodeCommitsFrom!, wall);
nodes?.Report(wall);

foreach (var c in masters.Concat(slaves)) c.Dispose();
if (kmes is not null)
{
    kmes.StandardInput.Close(); // the child stops its servers when its stdin ends
    await kmes.WaitForExitAsync();
}
if (link is not null) await link.DisposeAsync();
if (nodes is not null) await nodes.DisposeAsync();
certificates?.Dispose();
return results.Sum(r => r.Mismatches + r.Errors) == 0 ? 0 : 1;

// Child process: both KMEs, their pools filled, the SAE certificates written for the parent; stops when stdin ends.
async Task<int> Serve(string directory)
{
    using var certs = new TestCertificates();
    await using var kmeLink = await StartKmes(certs);
    File.WriteAllText(Path.Combine(directory, "ca.pem"), certs.Ca.ExportCertificatePem());
    foreach (var (sae, certificate) in kmeLink.SaeCertificates)
        File.WriteAllBytes(Path.Combine(directory, sae + ".pfx"), certificate.Export(X509ContentType.Pkcs12));
    Console.WriteLine($"pools filled: {kmeLink.AlicePool.AvailableAsMaster:N0} keys mastered by Alice's KME");
    Console.WriteLine($"READY {kmeLink.Alice.BaseAddress.Port} {kmeLink.Bob.BaseAddress.Port}");
    await Console.In.ReadToEndAsync();
    return 0;
}

async Task<KmeLink> StartKmes(TestCertificates certs)
{
    // Enough keys that the run never exhausts the pool (it would measure 503s).
    const int keysPerBlock = 1024;
    long keys = settings.KeysNeeded;
    int blocks = (int)((keys + keysPerBlock - 1) / keysPerBlock);
    Func<KmeRole, IKeyPool> pools = settings.Pool switch
    {
        "memory" => role => new InMemoryKeyPool(role, KmeLink.LinkId, KmeLink.KeySizeBits, maxKeyCount: long.MaxValue),
        "sqlite-full" => SqlitePools(certs, KeyPoolDurability.Full, keys + keysPerBlock),
        "sqlite-normal" => SqlitePools(certs, KeyPoolDurability.Normal, keys + keysPerBlock),
        _ => throw new ArgumentException($"--pool {settings.Pool}: memory, sqlite-full or sqlite-normal"),
    };
    return await KmeLink.StartAsync(certs, blocks, keysPerBlock, pools, maxKeyPerRequest: Math.Max(128, settings.Number));
}

static Func<KmeRole, IKeyPool> SqlitePools(TestCertificates certs, KeyPoolDurability durability, long maxKeys)
{
    string directory = Path.Combine(certs.Directory, "pools");
    Directory.CreateDirectory(directory);
    return role =>
    {
        using var operatorKey = OperatorKey.Generate();
        return new SqliteKeyPool(new SqliteKeyPoolOptions
        {
            DatabasePath = Path.Combine(directory, $"{role}.db"),
            LinkId = KmeLink.LinkId,
            Role = role,
            KeySizeBits = KmeLink.KeySizeBits,
            MaxKeyCount = Math.Max(2_000_000, maxKeys),
            Durability = durability,
        }, operatorKey);
    };
}

async Task<WorkerResult> Worker(int w)
{
    var master = masters[w % masters.Length];
    var slave = slaves[w % slaves.Length];
    string masterId = masterIds[w % masters.Length], slaveId = slaveIds[w % slaves.Length];
    string encUrl = $"/api/v1/keys/{slaveId}/enc_keys?number={settings.Number}";
    string decUrl = $"/api/v1/keys/{masterId}/dec_keys";
    var result = new WorkerResult();
    while (true)
    {
        long t0 = Stopwatch.GetTimestamp();
        if (t0 >= stopAt) return result;
        try
        {
            List<(string Id, string Key)> keys;
            using (var response = await master.GetAsync(encUrl))
                keys = await ReadKeys(response);
            long t1 = Stopwatch.GetTimestamp();
            List<(string Id, string Key)> same;
            if (keys.Count == 1)
            {
                using var response = await slave.GetAsync($"{decUrl}?key_ID={keys[0].Id}");
                same = await ReadKeys(response);
            }
            else
            {
                var body = new StringBuilder("{\"key_IDs\":[");
                for (int i = 0; i < keys.Count; i++)
                    body.Append(i == 0 ? "" : ",").Append("{\"key_ID\":\"").Append(keys[i].Id).Append("\"}");
                body.Append("]}");
                using var response = await slave.PostAsync(decUrl, new StringContent(body.ToString(), Encoding.UTF8, "application/json"));
                same = await ReadKeys(response);
            }
            long t2 = Stopwatch.GetTimestamp();
            if (!keys.SequenceEqual(same)) result.Mismatches++;
            if (t0 >= measureFrom)
            {
                result.Pairs += keys.Count;
                result.Enc.Add(t1 - t0);
                result.Dec.Add(t2 - t1);
                result.Pair.Add(t2 - t0);
            }
        }
        catch (HttpRequestException e)
        {
            if (result.Errors++ == 0) Console.Error.WriteLine($"worker {w}: {e.Message}");
        }
    }
}

static async Task<List<(string Id, string Key)>> ReadKeys(HttpResponseMessage response)
{
    byte[] body = await response.Content.ReadAsByteArrayAsync();
    if (response.StatusCode != HttpStatusCode.OK)
        throw new HttpRequestException($"{(int)response.StatusCode}: {Encoding.UTF8.GetString(body)}");
    using var doc = JsonDocument.Parse(body);
    return doc.RootElement.GetProperty("keys").EnumerateArray()
        .Select(k => (k.GetProperty("key_ID").GetString()!, k.GetProperty("key").GetString()!)).ToList();
}

static string RoleOf(ReadOnlySpan<KeyValuePair<string, object?>> tags)
{
    foreach (var tag in tags)
        if (tag.Key == "role") return tag.Value as string ?? "?";
    return "?";
}

static long[] Merge(IEnumerable<List<long>> parts)
{
    var all = parts.SelectMany(p => p).ToArray();
    Array.Sort(all);
    return all;
}

static void Report(string what, long[] sorted)
{
    if (sorted.Length == 0) { Console.WriteLine($"{what}: no samples"); return; }
    double Ms(double q) => sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))] * 1000.0 / Stopwatch.Frequency;
    Console.WriteLine($"{what,-15} n={sorted.Length:N0}  p50 {Ms(0.50):F2} ms  p90 {Ms(0.90):F2} ms  p99 {Ms(0.99):F2} ms  p99.9 {Ms(0.999):F2} ms  max {Ms(1.0):F2} ms");
}

sealed class CommitTally
{
    private readonly Dictionary<string, (long Batches, long Operations, double Seconds)> _byRole = [];

    public void Add(string role, int operations, double seconds)
    {
        lock (_byRole)
        {
            var t = _byRole.GetValueOrDefault(role);
            _byRole[role] = operations > 0 ? (t.Batches + 1, t.Operations + operations, t.Seconds) : (t.Batches, t.Operations, t.Seconds + seconds);
        }
    }

    public void Reset()
    {
        lock (_byRole) _byRole.Clear();
    }

    public void Report(double wall)
    {
        lock (_byRole)
            foreach (var (role, t) in _byRole.OrderBy(r => r.Key))
                Console.WriteLine($"group commit {role}: {t.Batches / wall:N0} commits/s, {t.Operations / (double)Math.Max(1, t.Batches):F1} operations per commit, " +
                                  $"commit {t.Seconds * 1e6 / Math.Max(1, t.Batches):F0} us each ({t.Seconds / wall:P0} of the time committing)");
    }
}

sealed class WorkerResult
{
    public long Pairs, Mismatches, Errors;
    public List<long> Enc { get; } = new(1 << 16);
    public List<long> Dec { get; } = new(1 << 16);
    public List<long> Pair { get; } = new(1 << 16);
}

sealed record Settings(int Clients, int Seconds, int Warmup, int Number, string Pool, string Http, long? Keys, bool Split, string? ServeDirectory,
    bool Deployed = false, bool VerboseNodes = false)
{
    public long KeysNeeded => Keys ?? (Pool == "memory" && !Deployed ? 2_000_000 : 400_000);

    public static Settings Parse(string[] args)
    {
        var s = new Settings(16, 10, 2, 1, "memory", "1.1", null, false, null);
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--split") { s = s with { Split = true }; continue; }
            if (args[i] == "--deployed") { s = s with { Deployed = true, Pool = "node" }; continue; }
            if (args[i] == "--verbose-nodes") { s = s with { VerboseNodes = true }; continue; }
            string value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            s = args[i] switch
            {
                "--clients" => s with { Clients = int.Parse(value) },
                "--seconds" => s with { Seconds = int.Parse(value) },
                "--warmup" => s with { Warmup = int.Parse(value) },
                "--number" => s with { Number = int.Parse(value) },
                "--pool" => s with { Pool = value },
                "--http" => s with { Http = value },
                "--keys" => s with { Keys = long.Parse(value) },
                "--serve" => s with { ServeDirectory = value },
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
            i++;
        }
        return s;
    }
}
