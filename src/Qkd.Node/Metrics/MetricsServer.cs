using Qkd.Hardware.Peripherals;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OpenTelemetry.Metrics;
using Qkd.Status;

namespace Qkd.Node.Metrics;

/// <summary>
/// The Prometheus scrape endpoint of a node: Kestrel on plain HTTP serving `GET /metrics` in the text exposition
/// format 0.0.4 (OpenMetrics when the scraper asks for it), through the OpenTelemetry Prometheus exporter. It exports
/// the node's meters (<see cref="ExportedMeters"/>); the exporter turns "qkd.acquisition.tags" into
/// qkd_acquisition_tags_total, adds a unit suffix for UCUM units ("bit", "s"; none for annotations like "{key}"),
/// writes HELP and TYPE lines and the tags as escaped labels. Usage: construct, <see cref="StartAsync"/>, read
/// <see cref="BaseAddress"/>, dispose. Given a <see cref="StatusBoard"/>, the same listener also serves the operator's
/// status page (<c>/status</c>, <c>/status.json</c>; Qkd.Status), under the same access rules.
/// </summary>
public sealed class MetricsServer : IAsyncDisposable
{
    /// <summary>The meters served: the node's, the key pool's and the acquisition loop's.</summary>
    public static IReadOnlyList<string> ExportedMeters { get; } = [NodeMetrics.MeterName, PeripheralMetrics.MeterName, Kme.Pool.KeyPoolMetrics.MeterName, Acquisition.Loop.AcquisitionMetrics.MeterName,
        Monitoring.MonitorMetrics.MeterName, Audit.AuditLog.MeterName];

    private readonly IPEndPoint _listen;
    private readonly WebApplication _app;
    private int _state; // 0 new, 1 started, 2 stopped

    /// <param name="monitor">With a link monitor, `GET /events` serves its alarms and estimates as JSON and `GET /events/stream`
    /// the same snapshot then every raise and clear as server-sent events (`event: raised|cleared`, `id:` the change's sequence).</param>
    /// <param name="status">With a status board, the operator's page (Qkd.Status) on the same listener.</param>
    public MetricsServer(IPEndPoint listen, ILoggerFactory? loggerFactory = null, NodeLinkMonitor? monitor = null,
        StatusBoard? status = null)
    {
        _listen = listen;
        // The empty builder reads no appsettings, environment or command line: everything comes from the node config.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton(loggerFactory ?? NullLoggerFactory.Instance);
        builder.Services.AddLogging();
        builder.Services.AddRouting();
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 0; // a scrape is a GET
            kestrel.Listen(listen);
        });
        builder.Services.AddOpenTelemetry().WithMetrics(metrics =>
        {
            foreach (string meter in ExportedMeters) metrics.AddMeter(meter);
            // No response cache: every scrape reads the values of that moment (a scrape costs microseconds here).
            metrics.AddPrometheusExporter(options => options.ScrapeResponseCacheDurationMilliseconds = 0);
        });
        _app = builder.Build();
        _app.UseRouting();
        _app.MapPrometheusScrapingEndpoint("/metrics");
        if (monitor is not null) MapEvents(monitor);
        if (status is not null) _app.MapOperatorStatus(status);
    }

    private void MapEvents(NodeLinkMonitor monitor)
    {
        _app.MapGet("/events", (RequestDelegate)(context =>
        {
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync(Monitoring.MonitorJson.Serialize(monitor.Snapshot()), context.RequestAborted);
        }));
        _app.MapGet("/events/stream", (RequestDelegate)(async context =>
        {
            context.Response.ContentType = "text/event-stream";
            context.Response.Headers.CacheControl = "no-cache";
            var changes = monitor.Monitor.Board.WatchAsync(context.RequestAborted).GetAsyncEnumerator(context.RequestAborted);
            try
            {
                var next = changes.MoveNextAsync(); // subscribed before the snapshot: no change falls between the two
                await context.Response.WriteAsync($"event: snapshot\ndata: {Monitoring.MonitorJson.Serialize(monitor.Snapshot())}\n\n", context.RequestAborted).ConfigureAwait(false);
                await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
                while (await next.ConfigureAwait(false))
                {
                    var change = changes.Current;
                    await context.Response.WriteAsync($"event: {(change.Raised ? "raised" : "cleared")}\nid: {change.Sequence}\ndata: {Monitoring.MonitorJson.Serialize(change)}\n\n",
                        context.RequestAborted).ConfigureAwait(false);
                    await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
                    next = changes.MoveNextAsync();
                }
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                // The client went away.
            }
            finally
            {
                await changes.DisposeAsync().ConfigureAwait(false);
            }
        }));
    }

    /// <summary>http://address:port actually bound (the real port when the configured one is 0); set by <see cref="StartAsync"/>.</summary>
    public Uri BaseAddress { get; private set; } = new("http://unstarted.invalid/");

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
            throw new InvalidOperationException("The metrics server was already started; create a new one.");
        await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        var bound = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        BaseAddress = new UriBuilder("http", _listen.Address.ToString(), bound.Port).Uri;
    }

    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _state, 2, 1) == 1)
            await _app.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
