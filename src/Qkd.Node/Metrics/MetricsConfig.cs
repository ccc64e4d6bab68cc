using Qkd.Node.Service;

namespace Qkd.Node.Metrics;

/// <summary>
/// The node's Prometheus scrape endpoint (`"metrics": { "listen": "127.0.0.1:9464" }` in the node config; no
/// "metrics" section: no endpoint). Plain HTTP without authentication, so it belongs on loopback or a management
/// network: the values say how much key a link makes, never any key.
/// </summary>
/// <param name="Listen">host:port to serve `GET /metrics` on ("[::1]:9464" for IPv6, "localhost:9464", a management
/// interface's name; port 0 picks a free one).</param>
public sealed record MetricsConfig(string Listen = MetricsConfig.DefaultListen)
{
    public const string DefaultListen = "127.0.0.1:9464";

    /// <summary>The parsed <see cref="Listen"/> (a name is resolved when the endpoint starts); call only when <see cref="Problems"/> is empty.</summary>
    public ConfiguredEndpoint Endpoint => ConfiguredEndpoint.TryParse(Listen) ?? throw new FormatException($"metrics.listen \"{Listen}\" is not address:port");

    /// <summary>What is wrong with this section, each message naming the field and the bad value.</summary>
    public IEnumerable<string> Problems()
    {
        if (ConfiguredEndpoint.TryParse(Listen) is null)
            yield return $"metrics.listen \"{Listen}\" is not address:port: {ConfiguredEndpoint.Expected}, e.g. \"{DefaultListen}\" or \"[::1]:9464\"";
    }
}
