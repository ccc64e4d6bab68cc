using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Qkd.ClassicalChannel;
using Qkd.Kme.Delivery;
using Qkd.Kme.PeerLink;
using Qkd.Kme.Pool;
using Qkd.Network.Delivery;
using Qkd.Network.Links;
using Qkd.Network.Relay;
using Qkd.Network.Topology;
using Qkd.Node.Service;

namespace Qkd.NetworkHost;

/// <summary>
/// One trusted node of a network as a process (`qkd network node --config network-node.json`): per neighbour, the QKD
/// link end (a <see cref="QkdNodeService"/> as `qkd alice`/`qkd bob` runs it: emulated devices with the link's own
/// physics, distillation, the link's key pool, the KME link) and the network's classical channel to that neighbour
/// (TCP, session, Wegman–Carter with its own pad); over them one <see cref="RelayNode"/> whose link key comes from each
/// link's pool (<see cref="KeyPoolLinkKeySource"/>). It talks to whoever started it through standard input and output:
/// it prints <c>@qkd-network ready</c> once up and a status line (<see cref="NodeResult"/>) every few seconds; the
/// line <c>load</c> starts its relay load, <c>stop</c> or the end of input stops it, and so does the cancellation token
/// (SIGTERM). It writes its result file when it stops.
/// </summary>
public sealed class NetworkNode
{
    public const string Marker = "@qkd-network";
    private static readonly TimeSpan StatusEvery = TimeSpan.FromSeconds(2);

    private readonly NetworkNodeConfig _config;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;
    private readonly List<LinkEnd> _links = [];
    private RelayNode? _relay;
    private EtsiKeyDeliveryServer? _keyDelivery;
    private RelayLoad? _load;
    private Audit.AuditLog? _audit;
    private Audit.AuditKey? _auditKey;

    private NetworkNode(NetworkNodeConfig config, ILoggerFactory loggers)
    {
        _config = config;
        _loggers = loggers;
        _logger = loggers.CreateLogger($"qkd.network.{config.NodeId}");
    }

    /// <summary>
    /// Runs the node until <paramref name="control"/> says stop or ends, or <paramref name="stopping"/> fires. Returns the
    /// result (also written to the result file). <paramref name="ready"/> runs once the node is up, when "ready" is
    /// written (a service manager's readiness signal: systemd's READY=1).
    /// </summary>
    /// <exception cref="NetworkNodeStartupException">The node could not start (the message names the file or link at fault).</exception>
    public static async Task<NodeResult> RunAsync(NetworkNodeConfig config, ILoggerFactory loggers, TextReader control, TextWriter output, CancellationToken stopping,
                                                  Action? ready = null)
    {
        var node = new NetworkNode(config, loggers);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        string? failure = null;
        try
        {
            try
            {
                await node.StartAsync(stopping);
            }
            catch (Exception e) when (e is not NetworkNodeStartupException and not OperationCanceledException)
            {
                await node.StopAsync("did not start");
                throw new NetworkNodeStartupException(OneLine(e.Message), e);
            }
            catch (NetworkNodeStartupException)
            {
                await node.StopAsync("did not start");
                throw;
            }
            await WriteLineAsync(output, $"{Marker} ready");
            ready?.Invoke();
            var controlLoop = Task.Run(async () =>
            {
                while (await control.ReadLineAsync(stop.Token) is { } line)
                {
                    if (line.Trim() == "load") node.StartLoad(stop.Token);
                    else if (line.Trim() == "stop") break;
                }
                await stop.CancelAsync();
            }, CancellationToken.None);
            using var timer = new PeriodicTimer(StatusEvery);
            try
            {
                while (await timer.WaitForNextTickAsync(stop.Token))
                {
                    node.FeedKeyRates();
                    await WriteLineAsync(output, $"{Marker} status {JsonSerializer.Serialize(node.Snapshot(null), NetworkHostJson.Default.NodeResult)}");
                }
            }
            catch (OperationCanceledException) { }
            failure = node._links.Select(l => l.Failure).FirstOrDefault(f => f is not null);
        }
        finally
        {
            if (node._load is { } load) await load.StopAsync();
        }
        var result = node.Snapshot(failure);
        await node.StopAsync();
        await File.WriteAllTextAsync(config.PathOf(config.ResultFile), JsonSerializer.Serialize(result, NetworkHostJson.Indented.NodeResult), CancellationToken.None);
        return result;
    }

    private static async Task WriteLineAsync(TextWriter output, string line)
    {
        await output.WriteLineAsync(line);
        await output.FlushAsync();
    }

    private async Task StartAsync(CancellationToken stopping)
    {
        var topology = Startup("topology", () => TopologyFile.Load(_config.PathOf(_config.Topology)));
        if (topology.Nodes.All(n => n.Id != _config.NodeId))
            throw new NetworkNodeStartupException($"nodeId: '{_config.NodeId}' is not a node of {_config.Topology}");
        var expected = topology.LinksOf(_config.NodeId).Select(l => l.Other(_config.NodeId)).Order(StringComparer.Ordinal);
        if (!expected.SequenceEqual(_config.Links.Select(l => l.Neighbour).Order(StringComparer.Ordinal), StringComparer.Ordinal))
            throw new NetworkNodeStartupException($"links: the topology gives '{_config.NodeId}' the neighbours {string.Join(", ", expected)}, the config {string.Join(", ", _config.Links.Select(l => l.Neighbour))}");
        var operatorKey = Startup("operatorKeyFile", () => OperatorKey.FromFile(_config.PathOf(_config.OperatorKeyFile)));
        if (_config.Audit is { } auditConfig)
        {
            (_audit, _auditKey) = Startup("audit", () => Audit.AuditLog.OpenConfigured(auditConfig, _config.BaseDirectory));
            _audit.WriteNodeStarted("network node", _config.NodeId, _config.SourceFile);
        }

        foreach (var (link, i) in _config.Links.Select((l, i) => (l, i)))
        {
            LinkEnd end;
            if (link.PresharedKeyFile is { Length: > 0 } presharedFile)
            {
                // The stand-in: the link's own pool, filled once from the key both ends were given.
                string linkId = LinkIdOf(topology, link.Neighbour);
                end = new LinkEnd(link, linkId, null);
                _links.Add(end);
                end.Pool = Startup($"links[{i}].presharedKeyFile", () => OpenPresharedPool(_config.PathOf(presharedFile), linkId, link.Role, topology.KeySizeBits, operatorKey));
            }
            else
            {
                var qkdConfig = Startup($"links[{i}].qkdConfig", () => NodeConfig.Load(_config.PathOf(link.QkdConfig)));
                var lifetime = new LinkLifetime();
                var service = new QkdNodeService(qkdConfig, _loggers, lifetime);
                end = new LinkEnd(link, qkdConfig.LinkId, service);
                var ended = end;
                lifetime.Stopping = () => ended.Failure ??= $"QKD link {qkdConfig.LinkId} to {link.Neighbour} stopped: {OneLine(service.Failure?.Message ?? "on request")}";
                _links.Add(end);
                try
                {
                    await service.StartAsync(stopping);
                }
                catch (NodeStartupException e)
                {
                    throw new NetworkNodeStartupException($"links[{i}] ({qkdConfig.LinkId}, {_config.PathOf(link.QkdConfig)}): {e.Message}", e);
                }
                end.Pool = service.KeyPool ?? throw new NetworkNodeStartupException($"links[{i}] ({qkdConfig.LinkId}): the key pool did not open");
            }
            end.Pad = Startup($"links[{i}].relaySecretFile", () =>
            {
                string state = _config.PathOf(link.RelayStateDirectory);
                Directory.CreateDirectory(state);
                return AuthenticationPadStore.Open(_config.PathOf(link.RelaySecretFile), state, link.Role == "alice" ? ChannelEnd.Alice : ChannelEnd.Bob);
            });
            var endpoint = ConfiguredEndpoint.Parse(link.RelayEndpoint, $"links[{i}].relayEndpoint");
            EndPoint target = link.Role == "alice" ? endpoint.ForConnecting() : await endpoint.ResolveAsync($"links[{i}].relayEndpoint", stopping);
            end.Neighbour = new ClassicalChannelNeighbourLink(link.Neighbour, ct => OpenSessionAsync(end, target, ct));
            end.Keys = new KeyPoolLinkKeySource(end.Pool, _config.NodeId, link.Neighbour);
        }

        _relay = new RelayNode(new RelayNodeOptions
        {
            NodeId = _config.NodeId,
            Topology = topology,
            DatabasePath = _config.PathOf(_config.RelayDatabase),
            OperatorKey = operatorKey,
            HeldKeyLifetime = TimeSpan.FromSeconds(_config.RelayedKeyLifetimeSeconds),
        }, _loggers.CreateLogger("qkd.relay"));
        foreach (var l in _links) _relay.AddLink(l.Neighbour!, l.Keys!);
        await _relay.StartAsync();
        if (_config.KeyDelivery is { } delivery)
        {
            // The same server as a link's KME (TLS, client certificates, the spec's rules), its keys from the relay.
            var options = Startup("keyDelivery", () => NetworkKeyDeliveryOptions.For(delivery with
            {
                ServerCertificatePath = _config.PathOf(delivery.ServerCertificatePath),
                ServerKeyPath = delivery.ServerKeyPath is null ? null : _config.PathOf(delivery.ServerKeyPath),
                TrustedClientCaPaths = delivery.TrustedClientCaPaths.Select(_config.PathOf).ToArray(),
                ClientCrlPaths = delivery.ClientCrlPaths.Select(_config.PathOf).ToArray(),
            }, topology, _config.NodeId));
            // Every delivery (enc_keys once the relay committed, dec_keys) into the audit log: SAE and key IDs only.
            var audit = _audit is { } log ? new KeyDeliveryAuditCallback((operation, master, slave, ids) => log.Write(Audit.AuditEvent.KeysDelivered(operation, master, slave, ids))) : null;
            _keyDelivery = Startup("keyDelivery", () => new EtsiKeyDeliveryServer(options, new RelayKeyDeliverySource(_relay, topology), _loggers, audit));
            try
            {
                await _keyDelivery.StartAsync(stopping);
            }
            catch (IOException e)
            {
                throw new NetworkNodeStartupException($"keyDelivery.port: {OneLine(e.Message)}", e);
            }
            _logger.LogInformation("Node {Node}: ETSI GS QKD 014 key delivery on {Address} for SAEs {Saes}", _config.NodeId, _keyDelivery.BaseAddress,
                string.Join(", ", options.LocalSaes.Select(s => s.SaeId)));
        }
        _logger.LogInformation("Node {Node} up: links to {Neighbours}", _config.NodeId, string.Join(", ", _links.Select(l => l.Config.Neighbour)));
        _load = new RelayLoad(_relay, topology, _config.NodeId, _config.Load, _loggers.CreateLogger("qkd.relay-load"));
    }

    private string LinkIdOf(NetworkTopology topology, string neighbour) =>
        topology.LinksOf(_config.NodeId).First(l => l.Other(_config.NodeId) == neighbour).Id;

    /// <summary>
    /// The link's pool (keys.db beside the key file, sealed with the operator key); the key file, if still there, is
    /// loaded as the pool's block 1 at both ends alike (same IDs, same bytes), then zeroised on disk and deleted.
    /// </summary>
    private static SqliteKeyPool OpenPresharedPool(string keyFile, string linkId, string role, int keySizeBits, OperatorKey operatorKey)
    {
        var pool = new SqliteKeyPool(new SqliteKeyPoolOptions
        {
            DatabasePath = Path.Combine(Path.GetDirectoryName(keyFile)!, "keys.db"),
            LinkId = linkId,
            Role = role == "alice" ? KmeRole.Alice : KmeRole.Bob,
            KeySizeBits = keySizeBits,
        }, operatorKey);
        if (!File.Exists(keyFile)) return pool;
        byte[] key = File.ReadAllBytes(keyFile);
        try
        {
            long bits = key.Length * 8L / keySizeBits * keySizeBits;
            if (pool.StoredBlockIds().Count == 0) pool.Accept(1, Core.Bits.PackedBits.FromBytes(key, bits));
            File.WriteAllBytes(keyFile, new byte[key.Length]);
            File.Delete(keyFile);
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(key);
        }
        return pool;
    }

    /// <summary>One session of the network channel to a neighbour: Alice connects, Bob listens; returns once connected.</summary>
    private async ValueTask<KmeLinkChannel> OpenSessionAsync(LinkEnd end, EndPoint target, CancellationToken cancellationToken)
    {
        var local = end.Config.Role == "alice" ? ChannelEnd.Alice : ChannelEnd.Bob;
        var options = local == ChannelEnd.Alice
            ? new TcpClassicalChannelOptions { LocalEnd = local, ConnectEndpoint = target, Channel = ChannelKind.Session }
            : new TcpClassicalChannelOptions { LocalEnd = local, ListenEndpoint = (IPEndPoint)target, Channel = ChannelKind.Session };
        var channel = new TcpClassicalChannel(options, end.Pad!, _loggers.CreateLogger("qkd.network-channel"));
        try
        {
            while (!channel.IsConnected) await Task.Delay(100, cancellationToken);
        }
        catch
        {
            await channel.DisposeAsync();
            throw;
        }
        return new KmeLinkChannel(channel, () => channel.IsConnected, channel.DisposeAsync);
    }

    private void StartLoad(CancellationToken stopping)
    {
        if (_load is { } load && !load.Running)
        {
            _logger.LogInformation("Node {Node}: relay load starts", _config.NodeId);
            load.Start(stopping);
        }
    }

    /// <summary>Tells routing each link's recent key rate (bytes per second of distilled key this end may send with).</summary>
    private void FeedKeyRates()
    {
        foreach (var l in _links)
            if (l.Keys is KeyPoolLinkKeySource source)
                source.KeyRateBytesPerSecond = l.DistilledBitsPerSecond(_started) / 8 / 2;
    }

    private NodeResult Snapshot(string? failure)
    {
        var status = _relay?.Status();
        var usage = status?.LinkKey.ToDictionary(u => u.Neighbour, StringComparer.Ordinal) ?? [];
        var links = _links.Select(l =>
        {
            long distilled = l.DistilledKeys;
            if (distilled > 0 && l.FirstKeyAt is null) l.FirstKeyAt = DateTimeOffset.UtcNow;
            var pool = l.Pool;
            return new LinkResult
            {
                LinkId = l.LinkId,
                Neighbour = l.Config.Neighbour,
                Role = l.Config.Role,
                KeySource = l.Service is null
                    ? "pre-shared random key (OS CSPRNG, written by the orchestrator into both ends' folders): a stand-in, NOT distilled by QKD"
                    : $"emulated QKD link ({l.Config.Role} end: decoy-state BB84, emulated devices, distillation into this link's key pool)",
                NeighbourLinkUp = l.Neighbour?.IsUp ?? false,
                DistilledKeys = distilled,
                DistilledBitsPerSecond = l.DistilledBitsPerSecond(_started),
                PoolAvailableAsMaster = pool?.AvailableAsMaster ?? 0,
                PoolHeldForPeer = pool?.HeldForPeer ?? 0,
                Sessions = l.Service?.SessionsRun ?? 0,
                FirstKeyAfterSeconds = l.FirstKeyAt is { } t ? Math.Round((t - _started).TotalSeconds, 1) : null,
                LinkKeySentBytes = usage.TryGetValue(l.Config.Neighbour, out var u) ? u.SentBytes : 0,
                LinkKeyReceivedBytes = u?.ReceivedBytes ?? 0,
            };
        }).ToList();
        return new NodeResult
        {
            Node = _config.NodeId,
            KeyDelivery = _keyDelivery?.BaseAddress.AbsoluteUri,
            RelayedKeys = status?.KeysRelayed ?? 0,
            LoadSeconds = Math.Round(_load?.Seconds ?? 0, 1),
            LinksReady = links.Count > 0 && links.All(l => l.NeighbourLinkUp && l.PoolAvailableAsMaster > 0),
            Failure = failure,
            Links = links,
            Flows = _load?.Flows() ?? [],
            Relay = status is null ? null : new RelayFigures
            {
                LegsCommitted = status.LegsCommitted, LegsAborted = status.LegsAborted, LegsInFlight = status.LegsInFlight,
                DestinationsStored = status.DestinationsStored, DestinationsAborted = status.DestinationsAborted, KeysHeldForSlaves = status.KeysHeldForSlaves,
                KeysExpired = status.KeysExpired,
                TransitsForwarded = status.TransitsForwarded, TransitsFailed = status.TransitsFailed, ForgedRejected = status.ForgedRejected,
                ReplayedRejected = status.ReplayedRejected, MalformedRejected = status.MalformedRejected, Rerouted = status.Rerouted,
            },
        };
    }

    /// <summary>ETSI server, then the relay (it takes link key from the pools), then the neighbour channels and their pads, then the QKD link ends.</summary>
    private async Task StopAsync(string reason = "stopped on request")
    {
        // The ETSI server first: a request in flight finishes (or is rolled back) while the relay is still there.
        if (_keyDelivery is not null) await _keyDelivery.DisposeAsync();
        if (_relay is not null) await _relay.DisposeAsync();
        foreach (var l in _links)
        {
            if (l.Neighbour is not null) await l.Neighbour.DisposeAsync();
            l.Pad?.Dispose();
        }
        foreach (var l in _links)
        {
            if (l.Service is null)
            {
                l.Pool?.Dispose();
                continue;
            }
            try { await l.Service.StopAsync(CancellationToken.None); }
            catch (Exception e) when (e is not OutOfMemoryException) { _logger.LogWarning("QKD link {Link} stopped with: {Error}", l.LinkId, e.Message); }
            l.Service.Dispose();
        }
        if (_audit is not null)
        {
            try { _audit.Write(Audit.AuditEvent.NodeStopped(reason)); }
            catch (Audit.AuditLogException e) { _logger.LogWarning("Audit log: {Error}", e.Message); }
            _audit.Dispose();
        }
        _auditKey?.Dispose();
    }

    private static T Startup<T>(string field, Func<T> step)
    {
        try
        {
            return step();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or ArgumentException or TopologyException
                                   or OperatorKeyException or AuthenticationPadStaleException or InvalidOperationException or Audit.AuditLogException
                                   or System.Security.Cryptography.CryptographicException)
        {
            throw new NetworkNodeStartupException($"{field}: {OneLine(e.Message)}", e);
        }
    }

    private static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>One neighbour: its config, the QKD link end and its pool, the network channel and its pad.</summary>
    private sealed class LinkEnd(NetworkLinkConfig config, string linkId, QkdNodeService? service)
    {
        public NetworkLinkConfig Config { get; } = config;
        public string LinkId { get; } = linkId;
        /// <summary>The QKD link end; null for a pre-shared stand-in link.</summary>
        public QkdNodeService? Service { get; } = service;
        public IKeyPool? Pool { get; set; }
        public AuthenticationPadStore? Pad { get; set; }
        public ClassicalChannelNeighbourLink? Neighbour { get; set; }
        public ILinkKeySource? Keys { get; set; }
        public DateTimeOffset? FirstKeyAt { get; set; }
        public string? Failure { get; set; }

        public long DistilledKeys => Pool is SqliteKeyPool p ? p.Statistics.KeysStored : 0;

        public double DistilledBitsPerSecond(DateTimeOffset since)
        {
            double seconds = (DateTimeOffset.UtcNow - since).TotalSeconds;
            // A pre-shared stand-in link distils nothing: its key was loaded at start, not made at a rate.
            return seconds > 0 && Service is not null && Pool is { } p ? Math.Round(DistilledKeys * p.KeySizeBits / seconds, 1) : 0;
        }
    }

    /// <summary>The lifetime a QKD link end stops through when it fails: the node notes it (the link is lost; the node goes on).</summary>
    private sealed class LinkLifetime : Microsoft.Extensions.Hosting.IHostApplicationLifetime
    {
        public Action? Stopping { get; set; }
        public CancellationToken ApplicationStarted => CancellationToken.None;
        public CancellationToken ApplicationStopping => CancellationToken.None;
        public CancellationToken ApplicationStopped => CancellationToken.None;
        public void StopApplication() => Stopping?.Invoke();
    }
}

/// <summary>A network node could not start; the message names the file, field or link at fault.</summary>
public sealed class NetworkNodeStartupException(string message, Exception? inner = null) : Exception(message, inner);
