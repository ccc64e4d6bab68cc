// Relay load: chains of N trusted nodes in one process (in-memory links and link keys, each node's relay state in its
// own SQLite file with synchronous=FULL), the first node's SAE asking for keys shared with the last node's SAE.
//
//   dotnet run -c Release --project tests/Qkd.NetworkLoad -- [--nodes 2,4,8] [--requests 200] [--concurrency 8] [--keys 1]
//
// Prints per chain: relayed keys/s under `concurrency` concurrent requests, the latency of one request alone (median
// and p95 of `requests / 4` sequential ones) and per hop (median / hops), and link key consumed per relayed key per hop.
using System.Diagnostics;
using Qkd.Network.Tests.Fakes;

int[] chains = [2, 4, 8];
int requests = 200, concurrency = 8, keysPerRequest = 1;
for (int i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--nodes": chains = args[i + 1].Split(',').Select(int.Parse).ToArray(); break;
        case "--requests": requests = int.Parse(args[i + 1]); break;
        case "--concurrency": concurrency = int.Parse(args[i + 1]); break;
        case "--keys": keysPerRequest = int.Parse(args[i + 1]); break;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}

Console.WriteLine($"relay load: {requests} requests of {keysPerRequest} key(s) of 256 bits, {concurrency} at once; {Environment.ProcessorCount} cores");
Console.WriteLine("nodes  hops  keys/s   request median ms  p95 ms  per-hop median ms  link key bytes per key per hop");
foreach (int n in chains)
{
    string[] names = Enumerable.Range(0, n).Select(i => $"n{i}").ToArray();
    await using var net = await TestNetwork.StartAsync(TestNetwork.Chain(names), keyBytesPerDirection: 1L << 20);
    var origin = net[names[0]];
    string master = $"sae-{names[0]}", slave = $"sae-{names[^1]}";
    var destination = net[names[^1]];
    for (int i = 0; i < 10; i++) await origin.RequestKeysAsync(master, [slave], keysPerRequest); // warm up

    // Throughput: `concurrency` workers, each one request after another.
    int next = 0;
    var clock = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
    {
        while (Interlocked.Increment(ref next) <= requests)
        {
            var keys = await origin.RequestKeysAsync(master, [slave], keysPerRequest);
            await destination.TakeForSlaveAsync(master, slave, keys.Select(k => k.Id).ToList());
        }
    }));
    double keysPerSecond = requests * keysPerRequest / clock.Elapsed.TotalSeconds;

    // Latency: one request at a time.
    var latencies = new List<double>();
    for (int i = 0; i < Math.Max(20, requests / 4); i++)
    {
        long start = Stopwatch.GetTimestamp();
        await origin.RequestKeysAsync(master, [slave], keysPerRequest);
        latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    }
    latencies.Sort();
    double median = latencies[latencies.Count / 2], p95 = latencies[(int)(latencies.Count * 0.95)];
    int hops = n - 1;

    // Link key: every byte any node took as sender, over every key relayed, per hop.
    long relayedKeys = origin.Status().KeysRelayed;
    long linkKeyBytes = net.Nodes.Sum(node => node.Status().LinkKey.Sum(u => u.SentBytes));
    double perKeyPerHop = linkKeyBytes / (double)relayedKeys / hops;
    Console.WriteLine($"{n,5}  {hops,4}  {keysPerSecond,6:F0}   {median,17:F2}  {p95,6:F2}  {median / hops,17:F2}  {perKeyPerHop,6:F1}");
}
return 0;
