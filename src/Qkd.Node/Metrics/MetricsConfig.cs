using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Qkd.Node.Metrics;

/// <summary>
/// The node's Prometheus scrape endpoint (`"metrics": { "listen": "127.0.0.1:9464" }` in the node config; no
/// "metrics" section: no endpoint). Plain HTTP without authentication, so it belongs on loopback or a management
/// network: the values say how much key a link makes, never any key.
/// </summary>
/// <param name="Listen">address:port to serve `GET /metrics` on ("[::1]:9464" for IPv6; port 0 picks a free one).</param>
public sealed record MetricsConfig(string Listen = MetricsConfig.DefaultListen)
{
    public const string DefaultListen = "127.0.0.1:9464";

    /// <summary>The parsed <see cref="Listen"/>; call only when <see cref="Problems"/> is empty.</summary>
    public IPEndPoint ListenEndPoint => TryParseListen(Listen) ?? throw new FormatException($"metrics.listen \"{Listen}\" is not address:port");

    /// <summary>What is wrong with this section, each message naming the field and the bad value.</summary>
    public IEnumerable<string> Problems()
    {
        if (TryParseListen(Listen) is null)
            yield return $"metrics.listen \"{Listen}\" is not address:port (a literal IP address and a port 0..65535, e.g. \"{DefaultListen}\" or \"[::1]:9464\")";
    }

    /// <summary>
    /// Stricter than <see cref="IPEndPoint.TryParse(string, out IPEndPoint?)"/>, which takes "127.0.0.1" (no port) as
    /// port 0 and "::1" as an address: here the port must be written, and an IPv6 address bracketed.
    /// </summary>
    private static IPEndPoint? TryParseListen(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text != text.Trim()) return null;
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1) return null;
        string host = text[..colon], port = text[(colon + 1)..];
        if (!port.All(char.IsAsciiDigit) || !int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int number) || number > IPEndPoint.MaxPort)
            return null;
        bool bracketed = host.StartsWith('[') && host.EndsWith(']');
        if (bracketed) host = host[1..^1];
        if (!IPAddress.TryParse(host, out var address)) return null;
        // "1.2.3.4" only as IPv4, an IPv6 literal only in brackets; IPAddress.TryParse also takes "1" or "0x7f.1".
        bool valid = address.AddressFamily == AddressFamily.InterNetworkV6
            ? bracketed
            : !bracketed && host.Count(c => c == '.') == 3 && host.All(c => char.IsAsciiDigit(c) || c == '.');
        return valid ? new IPEndPoint(address, number) : null;
    }
}
