using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Qkd.Node.Service;

/// <summary>
/// An endpoint as an operator writes it in a node config: "host:port", where host is a literal IPv4 address
/// ("10.0.0.2:7001"), a bracketed IPv6 address ("[::1]:7001") or a host name ("bob.example.net:7001",
/// "localhost:7001"), and the port is written out (0..65535). A name is resolved when the node listens or connects, not
/// when the config is read, so a config stays valid when an address changes.
/// </summary>
public sealed record ConfiguredEndpoint
{
    /// <summary>What a valid value looks like, for error messages.</summary>
    public const string Expected = "host:port (an IPv4 address, an IPv6 address in brackets or a host name, and a port 0..65535)";

    private ConfiguredEndpoint(string host, IPAddress? address, int port) => (Host, Address, Port) = (host, address, port);

    /// <summary>The address or name as written (without brackets).</summary>
    public string Host { get; }

    /// <summary>The literal address; null when <see cref="Host"/> is a name.</summary>
    public IPAddress? Address { get; }

    public int Port { get; }

    public bool IsHostName => Address is null;

    /// <summary>The same host with another port (the KME link of a config written before it had its own field).</summary>
    public ConfiguredEndpoint WithPort(int port) => new(Host, Address, port);

    public override string ToString() =>
        Address is { AddressFamily: AddressFamily.InterNetworkV6 } ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    /// <summary>
    /// Strict: the port must be written (IPEndPoint.TryParse would read "127.0.0.1" as port 0), an IPv6 address must be
    /// in brackets, and a name must be a DNS name (letters, digits, hyphens, dots), not digits alone, which
    /// IPAddress.TryParse would read as an address ("1" is 0.0.0.1).
    /// </summary>
    public static ConfiguredEndpoint? TryParse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text != text.Trim()) return null;
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1) return null;
        string host = text[..colon], port = text[(colon + 1)..];
        if (!port.All(char.IsAsciiDigit) || !int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int number) || number > IPEndPoint.MaxPort)
            return null;
        if (host.StartsWith('[') && host.EndsWith(']'))
            return IPAddress.TryParse(host[1..^1], out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6 ? new(host[1..^1], v6, number) : null;
        if (host.All(c => char.IsAsciiDigit(c) || c == '.'))
            return host.Count(c => c == '.') == 3 && IPAddress.TryParse(host, out var v4) && v4.AddressFamily == AddressFamily.InterNetwork
                ? new(host, v4, number)
                : null;
        return IsDnsName(host) ? new(host, null, number) : null;
    }

    /// <summary>Parses <paramref name="text"/> or throws a <see cref="NodeStartupException"/> naming <paramref name="field"/>.</summary>
    public static ConfiguredEndpoint Parse(string? text, string field) => TryParse(text)
        ?? throw new NodeStartupException(NodeStartupFailure.Configuration, $"{field} \"{text}\" is not {Expected}");

    /// <summary>
    /// What to connect to: the address, or the name (the socket resolves it at every connection attempt and tries each
    /// address it gets, so a peer that moves is found again).
    /// </summary>
    public EndPoint ForConnecting() => Address is { } address ? new IPEndPoint(address, Port) : new DnsEndPoint(Host, Port);

    /// <summary>
    /// The address to listen on or to check a peer's name with: the literal, or the name's first IPv4 address (IPv6
    /// if it has none), so "localhost" means 127.0.0.1 on every machine. A name that does not resolve is a
    /// <see cref="NodeStartupException"/> naming <paramref name="field"/>.
    /// </summary>
    public async Task<IPEndPoint> ResolveAsync(string field, CancellationToken cancellationToken)
    {
        if (Address is { } literal) return new IPEndPoint(literal, Port);
        IPAddress[] addresses;
        try
        {
            addresses = await Dns.GetHostAddressesAsync(Host, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new NodeStartupException(NodeStartupFailure.Network, $"{field} \"{this}\": the host name {Host} does not resolve ({e.Message})", e);
        }
        var chosen = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
            ?? addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetworkV6)
            ?? throw new NodeStartupException(NodeStartupFailure.Network, $"{field} \"{this}\": the host name {Host} resolves to no IP address");
        return new IPEndPoint(chosen, Port);
    }

    /// <summary>RFC 1123 host name: dot-separated labels of 1..63 letters, digits and hyphens, no hyphen at either end.</summary>
    private static bool IsDnsName(string host)
    {
        if (host.Length > 253) return false;
        foreach (string label in host.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-') return false;
            if (!label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')) return false;
        }
        return true;
    }
}
