using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Qkd.ClassicalChannel;
using Qkd.Core;
using Qkd.Core.Bits;
using Qkd.Core.Keys;
using Qkd.Core.Random;
using Qkd.Core.Symbols;
using Qkd.Distillation;
using Qkd.Monitoring;
using Qkd.Node.Link;
using Qkd.Node.Metrics;
using Qkd.Node.Service;
using Qkd.Node.Tests.Metrics;

namespace Qkd.Node.Tests.Monitoring;

/// <summary>
/// The link monitor as a node wires it: Bob's distiller feeds it every block and asks it before keeping a key, so key
/// stops at both ends while an alarm that threatens security is raised and resumes when it clears; the alarms are on
/// the metrics endpoint, GET /events and its server-sent stream; the config's "monitor" section is checked.
/// </summary>
public sealed class NodeLinkMonitorTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly LinkSettings Settings = LinkSettings.Default with { BlockSizeBits = 1 << 18 };

    [Theory(Timeout = 900_000)]
    [InlineData(false)]
    [InlineData(true)] // concurrent stages, as the node runs them: the hold is asked by Bob's block worker
    public async Task Key_stops_at_both_ends_while_a_QBER_alarm_is_raised_and_resumes_after_it_clears(bool concurrentStages)
    {
        // Blocks of 2^18 sifted Z bits (smaller blocks of this link leave no key under the default finite-key analysis, so
        // nothing would be withheld), about 26.4e6 pulses each: normal QBER (2 %) for 6 blocks, 3.5 % for 3 (still key, were it not withheld), then 2 % again.
        const long pulsesPerBlock = 26_400_000;
        var options = Settings.Distillation() with { ConcurrentStages = concurrentStages };
        var symbols = new SeededSymbolSource(21, Settings.SymbolDistribution());
        var detections = Detections(symbols, 15 * pulsesPerBlock, pulse => pulse is >= 6 * pulsesPerBlock and < 9 * pulsesPerBlock ? 0.035 : 0.02, 5);
        using var monitor = new NodeLinkMonitor(new MonitorOptions { WarmupBlocks = 4 }, $"hold-{Guid.NewGuid():N}", "bob", NullLogger.Instance);
        var feed = monitor.ForSession(session: 1, Settings, bobProbabilityZ: 0.75, frontEnd: () => null, pulseOffset: () => 0);
        var (aliceChannel, bobChannel) = InMemoryClassicalChannel.CreatePair();
        var aliceKeys = new KeysById();
        var bobKeys = new KeysById();
        var alice = new AliceDistiller(aliceChannel, symbols, options, aliceKeys, new Xoshiro256StarStar(4));
        var bob = new BobDistiller(bobChannel, options, bobKeys) { KeyHold = feed.KeyHold };
        bob.BlockCompleted += feed.BlockCompleted;
        var aliceRun = Task.Run(async () =>
        {
            try { await alice.RunAsync(Ct); }
            finally { aliceChannel.Complete(); }
        }, Ct);
        await bob.SiftAsync(detections, Ct);
        await bob.FinishAsync(Ct);
        bobChannel.Complete();
        await aliceRun;

        var history = monitor.Monitor.Board.History;
        var raised = history.Where(c => c.Raised).Select(c => c.Alarm).ToList();
        Assert.True(raised.Count > 0, $"{bob.Blocks.Count} blocks ({string.Join(", ", bob.Blocks.Select(b => $"{b.Outcome} {b.QberZ:P2} {b.LightSeconds}"))}), " +
            $"{monitor.Monitor.Blocks} observed; " + string.Join("; ", monitor.Monitor.Statistics.Select(st => $"{st.Name} {st.Value} base {st.Baseline} z {st.Z}")));
        Assert.All(raised, a => Assert.Equal(AlarmKind.QberRise, a.Kind));
        long firstRaised = raised.Min(a => a.BlockId) & 0xFFFF_FFFF;
        Assert.InRange(firstRaised, 6, 8); // while the QBER is up: CUSUM sums the rise over one to three blocks
        Assert.Empty(monitor.Monitor.Board.Current); // all cleared by the end
        long lastCleared = history.Where(c => !c.Raised).Max(c => c.Alarm.ClearedBlockId!.Value) & 0xFFFF_FFFF;

        var withheld = bob.Blocks.Where(b => b.KeyWithheld).Select(b => b.BlockId).ToList();
        Assert.NotEmpty(withheld);
        string outcomes = string.Join(", ", bob.Blocks.Select(b => $"{b.BlockId}: {b.Outcome}{(b.KeyWithheld ? " withheld" : "")} {b.QberZ:P2} {b.Reason}"));
        TestContext.Current.TestOutputHelper?.WriteLine(outcomes);
        // Every block from the raising one up to (not including) the clearing one is withheld, none outside.
        Assert.True(Enumerable.Range((int)firstRaised, (int)(lastCleared - firstRaised)).Select(b => (long)b).SequenceEqual(withheld), outcomes);
        Assert.All(bob.Blocks.Where(b => b.BlockId < firstRaised || b.BlockId >= lastCleared), b => Assert.Equal(BlockOutcome.Key, b.Outcome));
        Assert.Contains(bob.Blocks, b => b.BlockId > lastCleared && b.Outcome == BlockOutcome.Key); // key resumed
        // Neither end kept a withheld block; both kept the same others.
        Assert.Equal(bobKeys.Ids, aliceKeys.Ids);
        Assert.DoesNotContain(bobKeys.Ids, withheld.Contains);
        Assert.Equal(bob.Blocks.Count(b => b.Outcome == BlockOutcome.Key), bobKeys.Ids.Count);
    }

    [Fact(Timeout = 120_000)]
    public async Task Alarms_are_served_on_the_metrics_endpoint_events_and_the_event_stream()
    {
        string link = $"events-{Guid.NewGuid():N}";
        using var monitor = new NodeLinkMonitor(null, link, "bob", NullLogger.Instance);
        await using var server = new MetricsServer(new IPEndPoint(IPAddress.Loopback, 0), null, monitor);
        await server.StartAsync(Ct);
        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(120) };

        using var stream = await http.GetStreamAsync("/events/stream", Ct);
        using var reader = new StreamReader(stream);
        Assert.Equal("event: snapshot", await reader.ReadLineAsync(Ct));
        Assert.StartsWith("data: {", await reader.ReadLineAsync(Ct));

        var alarm = monitor.Monitor.Board.Raise(new LinkAlarm(0, AlarmKind.Blinding, "vacuum_yield", true, DateTimeOffset.UtcNow, 42,
            "vacuum_yield fell from 4E-6 to 0", 0, 12));
        string? line;
        while ((line = await reader.ReadLineAsync(Ct)) is not null && line != "event: raised") { }
        Assert.Equal("event: raised", line);
        Assert.StartsWith("id: ", await reader.ReadLineAsync(Ct));
        Assert.Contains("\"kind\":\"Blinding\"", await reader.ReadLineAsync(Ct));

        string events = await http.GetStringAsync("/events", Ct);
        Assert.Contains("\"keyHeld\":true", events);
        Assert.Contains("\"statistic\":\"vacuum_yield\"", events);

        var scrape = PrometheusExposition.Parse(await http.GetStringAsync("/metrics", Ct));
        var node = new[] { ("link", link), ("role", "bob") };
        Assert.Equal(1, scrape.Value("qkd_monitor_alarms_active", [.. node, ("kind", "blinding")]));
        Assert.Equal(0, scrape.Value("qkd_monitor_alarms_active", [.. node, ("kind", "loss_step")]));
        Assert.Equal(1, scrape.Value("qkd_monitor_key_held", node));
        monitor.Monitor.Board.Clear(alarm.Id, DateTimeOffset.UtcNow, 45);
        scrape = PrometheusExposition.Parse(await http.GetStringAsync("/metrics", Ct));
        Assert.Equal(0, scrape.Value("qkd_monitor_key_held", node));
        Assert.Equal(1, scrape.Value("qkd_monitor_alarms_raised_total", [.. node, ("kind", "blinding")]));
    }

    [Fact]
    public void The_monitor_section_is_read_and_a_bad_value_is_one_line_naming_it()
    {
        var config = NodeConfig.Load(Write("""  "monitor": { "decision": 8, "lossStopsKey": true },"""));
        Assert.Equal(8, config.Monitor!.Decision);
        Assert.True(config.Monitor.LossStopsKey);
        Assert.Equal(MonitorOptions.Default.Drift, config.Monitor.Drift); // unset fields keep their defaults
        var e = Assert.Throws<InvalidDataException>(() => NodeConfig.Load(Write("""  "monitor": { "clearBlocks": 0 },""")));
        Assert.Contains("monitor.clearBlocks 0 is outside [1, 10000]", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        e = Assert.Throws<InvalidDataException>(() => NodeConfig.Load(Write("""  "monitor": { "decisoin": 8 },""")));
        Assert.Contains("decisoin", e.Message);
    }

    private static string Write(string section)
    {
        string dir = Directory.CreateTempSubdirectory("qkd-monitor-config").FullName;
        string path = Path.Combine(dir, "node.json");
        File.WriteAllText(path, $$"""
            {
              "role": "bob",
              "linkId": "config-test",
              {{section}}
              "keyPool": { "database": "keys.db", "operatorKeyFile": "operator.key" },
              "classicalChannel": { "endpoint": "127.0.0.1:7001", "preSharedSecretFile": "pre-shared.secret" },
              "emulator": { "fibre": "127.0.0.1:7002" }
            }
            """);
        return path;
    }

    /// <summary>
    /// Bob's detections at the gains of a 25 km link (signal 0.0242, decoy 0.0075, vacuum 3e-6 per pulse), his basis Z
    /// with probability 0.75, bit errors at <paramref name="qber"/> of the pulse (half on vacuum pulses); seeded (a test).
    /// </summary>
    private static Detection[] Detections(SeededSymbolSource alice, long pulses, Func<long, double> qber, ulong seed)
    {
        var rng = new Xoshiro256StarStar(seed);
        double[] gain = [0.0242, 0.0075, 3e-6];
        double logMiss = Math.Log(1 - gain[0]);
        var list = new List<Detection>();
        for (long i = -1; ;)
        {
            i += 1 + (long)Math.Floor(Math.Log(1 - rng.NextDouble()) / logMiss);
            if (i >= pulses) break;
            var s = alice.SymbolAt(i);
            if (rng.NextDouble() * gain[0] >= gain[(int)s.Intensity]) continue;
            Basis basis = rng.NextDouble() < 0.75 ? Basis.Z : Basis.X;
            double error = s.Intensity == Intensity.Vacuum ? 0.5 : qber(i);
            byte bit = basis == s.Basis ? (byte)(s.Bit ^ (rng.NextDouble() < error ? 1 : 0)) : (byte)(rng.NextUInt64() & 1);
            list.Add(new Detection(i, basis, bit));
        }
        return [.. list];
    }

    private sealed class KeysById : IKeySink
    {
        private readonly SortedSet<long> _ids = [];

        public List<long> Ids
        {
            get { lock (_ids) return [.. _ids]; }
        }

        public void Accept(long blockId, PackedBits key)
        {
            lock (_ids) _ids.Add(blockId);
        }
    }
}
