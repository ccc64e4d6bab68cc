using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Qkd.Status.Tests;

/// <summary>
/// The status endpoints on a real Kestrel listener on 127.0.0.1, built as the node's metrics server builds its
/// (empty builder, Kestrel core, no server header, no request bodies, routing, <see cref="StatusEndpoints.MapOperatorStatus"/>).
/// </summary>
internal sealed class StatusTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private StatusTestServer(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public static async Task<StatusTestServer> StartAsync(StatusBoard board, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddRouting();
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 0;
            kestrel.Listen(IPAddress.Loopback, 0);
        });
        var app = builder.Build();
        app.UseRouting();
        app.MapOperatorStatus(board);
        await app.StartAsync(cancellationToken);
        var bound = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return new StatusTestServer(app, new UriBuilder("http", "127.0.0.1", bound.Port).Uri);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
