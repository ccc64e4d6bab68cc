using System.Net;
using Qkd.Distillation.FrameSync;
using Qkd.Node.Metrics;

namespace Qkd.Node.Tests.Metrics;

/// <summary>Frame synchronisation's result on the Prometheus endpoint: the last offset, its pilot error rate, failures.</summary>
public sealed class FrameSyncMetricsTests
{
    [Fact(Timeout = 60_000)]
    public async Task Offset_pilot_error_rate_and_failures_are_scraped()
    {
        var ct = TestContext.Current.CancellationToken;
        string link = $"frame-sync-{Guid.NewGuid():N}"; // meters are shared by name across the test process
        await using var server = new MetricsServer(new IPEndPoint(IPAddress.Loopback, 0));
        await server.StartAsync(ct);
        using var metrics = new FrameSyncMetrics(link, "bob");
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        var node = new[] { ("link", link), ("role", "bob") };
        // Nothing found yet: no offset is published (not a 0 that would look like a result).
        Assert.Empty(PrometheusExposition.Parse(await http.GetStringAsync("/metrics", ct)).Find("qkd_node_frame_sync_offset", node));

        metrics.Synchronised(new FrameSyncResult(3059, -100, 5000, 40_000, 2_000, 38, null));
        metrics.Synchronised(new FrameSyncResult(null, -100, 5000, 0, 0, 0, "none of the 0 detections"));
        var scrape = PrometheusExposition.Parse(await http.GetStringAsync("/metrics", ct));
        Assert.Equal(3059, scrape.Value("qkd_node_frame_sync_offset", node));
        Assert.Equal(0.019, scrape.Value("qkd_node_frame_sync_pilot_error_rate", node), 9);
        Assert.Equal(1, scrape.Value("qkd_node_frame_sync_failures_total", node));
    }
}
