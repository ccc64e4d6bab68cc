using System.Net;
using System.Security.Cryptography;
using Qkd.Acquisition.Loop;
using Qkd.Core.Bits;
using Qkd.Distillation;
using Qkd.Core.Channel;
using Qkd.ClassicalChannel;
using Qkd.Kme.Pool;
using Qkd.Node.Metrics;

namespace Qkd.Node.Tests.Metrics;

/// <summary>
/// The scrape endpoint end to end: a real server on 127.0.0.1:0, the node's instruments, a real key pool, pad store
/// and acquisition metrics; counters are moved, then scraped over HTTP and parsed back.
/// </summary>
public class MetricsEndpointTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 60_000)]
    public async Task Scrape_returns_the_values_the_node_counted()
    {
        // Every test in the process shares the meters by name: a link ID of our own (with characters that need
        // escaping in a label) keeps these series apart from any other test's.
        string link = $"e2e \"quoted\" back\\slash {Guid.NewGuid():N}";
        string dir = Directory.CreateTempSubdirectory("qkd-metrics-e2e").FullName;

        await using var server = new MetricsServer(new IPEndPoint(IPAddress.Loopback, 0));
        await server.StartAsync(Ct);
        Assert.NotEqual(0, server.BaseAddress.Port);

        using var metrics = new NodeMetrics(link, "bob");
        string secret = Path.Combine(dir, "pre-shared.secret");
        File.WriteAllBytes(secret, RandomNumberGenerator.GetBytes(64 << 10));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(secret, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using var pad = AuthenticationPadStore.Open(secret, Path.Combine(dir, "state"), ChannelEnd.Bob);
        using var padMetrics = metrics.ObservePadStore(pad);
        string keyFile = Path.Combine(dir, "operator.key");
        OperatorKey.WriteNewKeyFile(keyFile);
        using var operatorKey = OperatorKey.FromFile(keyFile);
        using var pool = new SqliteKeyPool(new SqliteKeyPoolOptions { DatabasePath = Path.Combine(dir, "keys.db"), LinkId = link, Role = KmeRole.Bob }, operatorKey);
        string source = $"tagger-{Guid.NewGuid():N}";
        using var acquisition = new AcquisitionMetrics(source, new AcquisitionCounters(), () => (3, 4));

        // Two sessions: the first's channel saw two forged frames and is gone, the second's saw one and a replay.
        metrics.SessionStarted();
        var first = new ChannelSecurityCounters(pad);
        using (metrics.Channels.Track("session", first))
        {
            first.CountRejected(FrameRejection.Forged);
            first.CountRejected(FrameRejection.Forged);
            first.CountReconnect();
        }
        metrics.SessionAborted(SessionAbortReason.Of(new ClassicalChannelClosedException("peer gone")));
        metrics.SessionStarted();
        var second = new ChannelSecurityCounters(pad);
        using var secondTracking = metrics.Channels.Track("session", second);
        second.CountRejected(FrameRejection.Forged);
        second.CountRejected(FrameRejection.Replayed);
        new MeteredKeySink(pool, metrics).Accept(1, PackedBits.FromBytes(RandomNumberGenerator.GetBytes(512), 4096));
        metrics.BlockCompleted(Block(BlockOutcome.Key, errors: 3, sifted: 100));
        metrics.BlockCompleted(Block(BlockOutcome.Key, errors: 2, sifted: 100)); // the last block's QBER is the one shown
        metrics.SessionCompleted();

        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var response = await http.GetAsync("/metrics", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains(response.Content.Headers.ContentType.Parameters, p => p.Name == "version" && p.Value == "0.0.4");
        var scrape = PrometheusExposition.Parse(await response.Content.ReadAsStringAsync(Ct));

        var node = new[] { ("link", link), ("role", "bob") };
        Assert.Equal(2, scrape.Value("qkd_node_sessions_started_total", node));
        Assert.Equal(1, scrape.Value("qkd_node_sessions_completed_total", node));
        Assert.Equal(1, scrape.Value("qkd_node_sessions_aborted_total", [.. node, ("reason", "channel_closed")]));
        Assert.Equal(4096, scrape.Value("qkd_node_secret_bits_total", node));
        Assert.Equal(2, scrape.Value("qkd_node_blocks_total", [.. node, ("outcome", "key")]));
        Assert.Equal(0.02, scrape.Value("qkd_node_qber", node), 12);
        Assert.Equal(3, scrape.Value("qkd_channel_frames_rejected_total", [.. node, ("channel", "session"), ("reason", "forged")]));
        Assert.Equal(1, scrape.Value("qkd_channel_frames_rejected_total", [.. node, ("channel", "session"), ("reason", "replayed")]));
        Assert.Equal(0, scrape.Value("qkd_channel_frames_rejected_total", [.. node, ("channel", "session"), ("reason", "truncated")]));
        Assert.Equal(1, scrape.Value("qkd_channel_reconnects_total", [.. node, ("channel", "session")]));
        Assert.Equal(pad.Account.RemainingBits, scrape.Value("qkd_channel_pad_remaining_bits", node));
        Assert.True(scrape.Value("qkd_channel_pad_remaining_bits", node) > 0);
        Assert.Equal(16, scrape.Value("qkd_keypool_keys_stored_total", node)); // 4096 bits in 256-bit keys
        Assert.Equal(16, scrape.Value("qkd_keypool_held_for_peer", node) + scrape.Value("qkd_keypool_available_as_master", node)); // split between directions
        Assert.Equal(0, scrape.Value("qkd_keypool_rows_refused_total", node)); // the delivery ledger's alarm, exported
        Assert.Equal(0, scrape.Value("qkd_keypool_scrubs_deferred_total", node));
        Assert.Equal(0.75, scrape.Value("qkd_acquisition_ring_fill", ("source", source)));
        Assert.Equal(0, scrape.Value("qkd_acquisition_dropped_total", ("source", source)));

        Assert.Equal("counter", scrape.Types["qkd_node_sessions_started_total"]);
        Assert.Equal("gauge", scrape.Types["qkd_node_qber"]);
        Assert.Equal("gauge", scrape.Types["qkd_channel_pad_remaining_bits"]);
        Assert.StartsWith("Sessions opened", scrape.Help["qkd_node_sessions_started_total"]);

        // The values move between scrapes: nothing is cached.
        // (The exporter may answer a scrape right after another from its short response cache, and on a loaded machine a
        // scrape has come back without the series: scrape again until the new value shows, giving up after a minute.)
        metrics.SessionStarted();
        double? latest = null;
        var giveUp = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < giveUp)
        {
            var again = PrometheusExposition.Parse(await http.GetStringAsync("/metrics", Ct));
            latest = again.TryValue("qkd_node_sessions_started_total", node);
            if (latest == 3) break;
            await Task.Delay(100, Ct);
        }
        Assert.Equal(3, latest);

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/", Ct)).StatusCode);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_listen_address_in_use_fails_at_start()
    {
        await using var first = new MetricsServer(new IPEndPoint(IPAddress.Loopback, 0));
        await first.StartAsync(Ct);
        await using var second = new MetricsServer(new IPEndPoint(IPAddress.Loopback, first.BaseAddress.Port));
        await Assert.ThrowsAnyAsync<IOException>(() => second.StartAsync(Ct));
    }

    private static BlockResult Block(BlockOutcome outcome, long errors, long sifted) => new()
    {
        BlockId = 1,
        Outcome = outcome,
        SiftedZ = sifted,
        SiftedX = sifted,
        SiftedZPerIntensity = [sifted],
        SiftedXPerIntensity = [sifted],
        ErrorsXPerIntensity = [errors],
        ErrorsZPerIntensity = [errors],
    };
}
