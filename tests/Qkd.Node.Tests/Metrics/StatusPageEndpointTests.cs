using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Qkd.Node.Metrics;
using Qkd.Status;

namespace Qkd.Node.Tests.Metrics;

/// <summary>
/// The operator's status page as the node serves it: on the metrics server's listener, so under the same access rules
/// as <c>/metrics</c> (the one configured address and port, plain HTTP, no request bodies, no server header; the page GET only),
/// and nowhere without a status board.
/// </summary>
public class StatusPageEndpointTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 60_000)]
    public async Task The_page_and_the_metrics_share_one_listener_and_its_rules()
    {
        var board = new StatusBoard("status-link", "bob");
        await using var server = new MetricsServer(new IPEndPoint(IPAddress.Loopback, 0), status: board);
        await server.StartAsync(Ct);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        foreach (string path in (string[])["/metrics", "/status", "/status.json"])
        {
            using var response = await http.GetAsync(path, Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.False(response.Headers.Contains("Server"), $"{path} names the server");
            Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"), $"{path} opens itself to other origins");
        }
        using (var document = JsonDocument.Parse(await http.GetStringAsync("/status.json", Ct)))
            Assert.Equal("status-link", document.RootElement.GetProperty("linkId").GetString());

        // The status endpoints answer GET only (the Prometheus exporter answers a POST to /metrics as a scrape).
        using (var post = await http.PostAsync("/status.json", new StringContent("x"), Ct))
            Assert.True(post.StatusCode is HttpStatusCode.MethodNotAllowed or HttpStatusCode.RequestEntityTooLarge, $"POST /status.json: {post.StatusCode}");

        // Only the configured address: the port is not open on another interface of this host.
        if (Dns.GetHostAddresses(Dns.GetHostName()).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a)) is { } other)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await Assert.ThrowsAsync<SocketException>(() => socket.ConnectAsync(new IPEndPoint(other, server.BaseAddress.Port), Ct).AsTask());
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Without_a_board_there_is_no_status_page()
    {
        await using var server = new MetricsServer(new IPEndPoint(IPAddress.Loopback, 0));
        await server.StartAsync(Ct);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/status", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/status.json", Ct)).StatusCode);
    }
}
