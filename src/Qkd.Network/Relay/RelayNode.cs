using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Qkd.Network.Links;
using Qkd.Network.Routing;

namespace Qkd.Network.Relay;

/// <summary>
/// One trusted node's part of the network: link-state routing over its neighbour links and trusted-node key relay
/// (origin, transit and destination roles), its state in SQLite. The README's "Relay protocol" describes the messages
/// and why a relay is consistent whatever stops where.
/// </summary>
/// <remarks>
/// Relay state changes are serialised by one gate (a node relays a few hundred keys a second at most; the link key, not
/// the CPU, is the limit). Sends to one neighbour are serialised by that neighbour's own lock.
/// </remarks>
public sealed class RelayNode : IAsyncDisposable
{
    private const byte AdvertisementEnvelope = 1;
    private const byte RelayEnvelope = 2;
    private const int MaxSendAttempts = 4;

    private readonly RelayNodeOptions _options;
    private readonly ILogger _logger;
    private readonly Dictionary<string, Neighbour> _neighbours = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<Guid, Group> _groups = [];
    private readonly Dictionary<Guid, Guid> _groupOfLeg = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private readonly RelayMetrics _metrics;
    private readonly int _keySizeBytes;
    private RelayStore? _store;
    private long _forged, _replayed, _malformed, _rerouted, _keysRelayed;
    private bool _started, _stopped;

    public RelayNode(RelayNodeOptions options, ILogger? logger = null)
    {
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        if (options.Topology.Nodes.All(n => n.Id != options.NodeId))
            throw new ArgumentException($"Node '{options.NodeId}' is not in topology '{options.Topology.Name}'", nameof(options));
        if (options.HeldKeyLifetime < 2 * options.RelayTimeout)
            throw new ArgumentOutOfRangeException(nameof(options), options.HeldKeyLifetime,
                $"{nameof(RelayNodeOptions.HeldKeyLifetime)} {options.HeldKeyLifetime} is shorter than twice the relay timeout ({options.RelayTimeout}): a key could expire before its origin commits it");
        _keySizeBytes = options.Topology.KeySizeBits / 8;
        LinkState = new LinkStateDatabase(options.TimeProvider, options.AdvertisementMaxAge);
        _metrics = new RelayMetrics(options.NodeId);
    }

    public string NodeId => _options.NodeId;

    /// <summary>What this node has heard from the others.</summary>
    public LinkStateDatabase LinkState { get; }

    /// <summary>The sequence of this node's last advertisement.</summary>
    public long AdvertisedSequence { get; private set; }

    /// <summary>Adds the link to one neighbour (before <see cref="StartAsync"/>).</summary>
    public void AddLink(INeighbourLink link, ILinkKeySource keys)
    {
        if (_started) throw new InvalidOperationException("Links are added before the node starts.");
        if (link.NeighbourId != keys.NeighbourId) throw new ArgumentException($"Link to '{link.NeighbourId}' with the key of the link to '{keys.NeighbourId}'");
        _neighbours.Add(link.NeighbourId, new Neighbour(link, keys));
    }

    /// <summary>Opens the state, rolls back what a previous run left half-done, advertises the links and starts listening.</summary>
    public async Task StartAsync()
    {
        _started = true;
        _store = new RelayStore(_options.DatabasePath, _options.OperatorKey);
        var transitsToAbort = new List<(Guid, string)>();
        await _gate.WaitAsync();
        try
        {
            // An origin that stopped loses the requests that waited: every relay it had not committed is rolled back.
            foreach (var (relayId, _, _) in _store.LegsIn(OriginLegState.Sent, OriginLegState.Confirmed))
                _store.SetLegState(relayId, OriginLegState.Aborting, AbortReason.NodeRestarted);
            // A transit node that stopped between recording and sending cannot tell whether the Forward left: it asks
            // the origin to roll back (the origin ignores it if the relay already committed).
            foreach (var t in _store.TransitsIn(TransitState.Forwarding))
            {
                _store.SetTransit(t.RelayId, t.Origin, "", "", TransitState.Failed, Now.UtcTicks);
                transitsToAbort.Add(t);
            }
        }
        finally { _gate.Release(); }
        foreach (var n in _neighbours.Values) _loops.Add(Task.Run(() => ReceiveLoopAsync(n)));
        await AdvertiseAsync();
        foreach (var n in _neighbours.Values) await SendDatabaseAsync(n);
        if (transitsToAbort.Count > 0)
        {
            await _gate.WaitAsync();
            try
            {
                foreach (var (relayId, origin) in transitsToAbort)
                    await SendControlAsync(Control(RelayMessageKind.Abort, relayId, origin, "", origin, AbortReason.NodeRestarted));
            }
            finally { _gate.Release(); }
        }
        await SweepAsync();
        if (_options.SweepInterval is { } every) _loops.Add(Task.Run(() => SweepLoopAsync(every)));
    }

    /// <summary>
    /// enc_keys across the network: <paramref name="count"/> new keys (OS CSPRNG) for <paramref name="masterSae"/> (on
    /// this node) shared with every SAE in <paramref name="slaveSaes"/> (any nodes; several make an ETSI multicast).
    /// Returns only once every destination node stored them durably; otherwise rolls back everywhere and throws.
    /// </summary>
    /// <exception cref="RelayFailedException">No usable route, a hop failed, the timeout passed, or the caller cancelled.</exception>
    public async Task<IReadOnlyList<RelayedKey>> RequestKeysAsync(string masterSae, IReadOnlyList<string> slaveSaes, int count,
        CancellationToken cancellationToken = default)
    {
        var store = Store;
        var topology = _options.Topology;
        if (topology.NodeOfSae(masterSae)?.Id != NodeId) throw new ArgumentException($"Master SAE '{masterSae}' is not attached to node '{NodeId}'");
        if (count is < 1 or > RelayCodec.MaxKeysPerRelay) throw new ArgumentOutOfRangeException(nameof(count), count, $"1..{RelayCodec.MaxKeysPerRelay} keys per request");
        if (slaveSaes.Count == 0 || slaveSaes.Count > 255) throw new ArgumentException("1..255 slave SAEs", nameof(slaveSaes));
        var byNode = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (string slave in slaveSaes.Distinct(StringComparer.Ordinal))
        {
            if (slave == masterSae) throw new ArgumentException($"SAE '{slave}' is the master itself");
            string node = topology.NodeOfSae(slave)?.Id ?? throw new ArgumentException($"Slave SAE '{slave}' is attached to no node of '{topology.Name}'");
            (byNode.TryGetValue(node, out var list) ? list : byNode[node] = []).Add(slave);
        }

        var group = new Group(Guid.NewGuid(), masterSae, count, _keySizeBytes, Now);
        RandomNumberGenerator.Fill(group.Keys);
        for (int i = 0; i < count; i++) group.KeyIds[i] = Guid.NewGuid(); // version 4: 122 bits from the OS CSPRNG
        int need = HopAuthenticator.LinkKeyBytes(group.Keys.Length);

        await _gate.WaitAsync(cancellationToken);
        try
        {
            var view = View();
            var plans = new List<(Guid RelayId, string Destination, List<string> Slaves, IReadOnlyList<string> Path)>();
            foreach (var (node, slaves) in byNode)
            {
                if (node == NodeId) { group.LocalSlaves.AddRange(slaves); continue; }
                var path = RouteFinder.Find(view, NodeId, node, need);
                if (path is null)
                {
                    group.Dispose();
                    throw new RelayFailedException($"No route from '{NodeId}' to '{node}' with {need} bytes of link key on every hop", AbortReason.NoRoute);
                }
                plans.Add((Guid.NewGuid(), node, slaves, path));
            }
            store.InsertLegs(group.Id, plans.Select(p => (p.RelayId, p.Destination)), Now.UtcTicks);
            _groups[group.Id] = group;
            foreach (var p in plans)
            {
                group.Legs[p.RelayId] = false;
                _groupOfLeg[p.RelayId] = group.Id;
            }
            if (plans.Count == 0) Commit(group);
            foreach (var p in plans)
            {
                var forward = new RelayMessage
                {
                    Kind = RelayMessageKind.Forward, RelayId = p.RelayId, Origin = NodeId, Destination = p.Destination, To = p.Destination,
                    MasterSae = masterSae, SlaveSaes = p.Slaves, KeySizeBytes = _keySizeBytes, KeyIds = group.KeyIds, Path = p.Path, PathIndex = 0,
                };
                if (!await SendForwardAsync(forward, group.Keys, new HashSet<string>(StringComparer.Ordinal)))
                {
                    AbortGroup(group, AbortReason.NoRoute);
                    await SendAbortsAsync(group.Id);
                    break;
                }
            }
        }
        finally { _gate.Release(); }
        await MaybeAdvertiseAsync();

        try
        {
            return await group.Done.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await _gate.WaitAsync(CancellationToken.None);
            try
            {
                if (_groups.ContainsKey(group.Id))
                {
                    AbortGroup(group, AbortReason.Cancelled);
                    await SendAbortsAsync(group.Id);
                }
            }
            finally { _gate.Release(); }
            // A commit may have won the race: then the keys are the caller's after all.
            if (group.Done.Task.IsCompletedSuccessfully) return group.Done.Task.Result;
            throw new RelayFailedException($"Relay of {count} keys from '{masterSae}' cancelled; rolled back", AbortReason.Cancelled);
        }
    }

    /// <summary>dec_keys at a destination: keys relayed from <paramref name="masterSae"/> for <paramref name="slaveSae"/>, each once. All or nothing.</summary>
    /// <exception cref="KeyNotFoundException">An ID is unknown, already delivered or not for this pair; nothing taken.</exception>
    public async Task<IReadOnlyList<RelayedKey>> TakeForSlaveAsync(string masterSae, string slaveSae, IReadOnlyList<Guid> keyIds)
    {
        await _gate.WaitAsync();
        try
        {
            return Store.TakeForSlave(masterSae, slaveSae, keyIds).Select(k => new RelayedKey(k.Id, k.Key)).ToList();
        }
        finally { _gate.Release(); }
    }

    /// <summary>
    /// Gives up relays older than the timeout (rolled back everywhere), sends again the aborts not yet acknowledged,
    /// deletes the held keys older than <see cref="RelayNodeOptions.HeldKeyLifetime"/>, and re-advertises this node's
    /// links. Runs every <see cref="RelayNodeOptions.SweepInterval"/>.
    /// </summary>
    public async Task SweepAsync()
    {
        await _gate.WaitAsync();
        try
        {
            var (relays, keys) = Store.ExpireHeldKeys((Now - _options.HeldKeyLifetime).UtcTicks);
            if (keys > 0)
            {
                _metrics.KeysExpired.Add(keys, _metrics.Node);
                _logger.LogInformation("Node {Node}: {Keys} relayed keys of {Relays} relays expired unfetched after {Lifetime} and were deleted",
                    NodeId, keys, relays, _options.HeldKeyLifetime);
            }
            foreach (var g in _groups.Values.Where(g => Now - g.Started >= _options.RelayTimeout).ToList())
                AbortGroup(g, AbortReason.Timeout);
            foreach (var (relayId, destination, _) in Store.LegsIn(OriginLegState.Aborting))
                await SendControlAsync(Control(RelayMessageKind.Abort, relayId, NodeId, destination, destination, AbortReason.Timeout));
        }
        finally { _gate.Release(); }
    }

    /// <summary>Floods this node's links (up, key available, key rate) to every neighbour with a new sequence number.</summary>
    public async Task AdvertiseAsync()
    {
        LinkStateAdvertisement lsa;
        await _gate.WaitAsync();
        try
        {
            lsa = OwnAdvertisement(Store.NextAdvertisementSequence());
            AdvertisedSequence = lsa.Sequence;
            foreach (var n in _neighbours.Values) n.AdvertisedAvailable = n.Keys.AvailableBytes;
        }
        finally { _gate.Release(); }
        byte[] message = Envelope(AdvertisementEnvelope, lsa.Encode());
        foreach (var n in _neighbours.Values) await TrySendAsync(n, message);
    }

    /// <summary>The path a relay of <paramref name="keyCount"/> keys to <paramref name="destination"/> would take now, or null.</summary>
    public IReadOnlyList<string>? RouteTo(string destination, int keyCount = 1) =>
        RouteFinder.Find(View(), NodeId, destination, HopAuthenticator.LinkKeyBytes(keyCount * _keySizeBytes));

    /// <summary>
    /// The path a one-key relay to <paramref name="destination"/> would take now and the link key available to send
    /// with on its scarcest hop (bytes, as this node sees it: its own links live, the others as advertised); null and 0
    /// when there is no usable route. What an ETSI Status reports for an SAE at that node.
    /// </summary>
    public (IReadOnlyList<string>? Path, long BottleneckBytes) RouteCapacity(string destination)
    {
        var view = View();
        var path = RouteFinder.Find(view, NodeId, destination, HopAuthenticator.LinkKeyBytes(_keySizeBytes));
        if (path is null || path.Count < 2) return (path, 0);
        long bottleneck = long.MaxValue;
        for (int i = 0; i + 1 < path.Count; i++)
        {
            long hop = 0;
            foreach (var (neighbour, available) in view.UsableLinks(path[i]))
                if (neighbour == path[i + 1]) hop = available;
            bottleneck = Math.Min(bottleneck, hop);
        }
        return (path, bottleneck);
    }

    public RelayStatus Status()
    {
        _gate.Wait();
        try
        {
            var s = Store;
            return new RelayStatus
            {
                NodeId = NodeId,
                LegsCommitted = s.CountLegs(OriginLegState.Committed),
                LegsAborted = s.CountLegs(OriginLegState.Aborted) + s.CountLegs(OriginLegState.Aborting),
                LegsInFlight = s.CountLegs(OriginLegState.Sent) + s.CountLegs(OriginLegState.Confirmed),
                KeysRelayed = Interlocked.Read(ref _keysRelayed),
                DestinationsStored = s.CountDestinations(DestinationState.Stored),
                DestinationsAborted = s.CountDestinations(DestinationState.Aborted),
                KeysHeldForSlaves = s.KeysHeldForSlaves(),
                DestinationsExpired = s.CountDestinations(DestinationState.Expired),
                KeysExpired = s.ExpiredKeys(),
                TransitsForwarded = s.CountTransits(TransitState.Forwarded),
                TransitsFailed = s.CountTransits(TransitState.Failed),
                ForgedRejected = Interlocked.Read(ref _forged),
                ReplayedRejected = Interlocked.Read(ref _replayed),
                MalformedRejected = Interlocked.Read(ref _malformed),
                Rerouted = Interlocked.Read(ref _rerouted),
                LinkKey = s.LinkUsage(),
            };
        }
        finally { _gate.Release(); }
    }

    /// <summary>
    /// Stops as a killed process would: listening ends, nothing more is written, requests waiting here fail. Only the
    /// state already committed to SQLite survives (tests drop a node this way and start a new one on its files).
    /// </summary>
    internal async Task CrashAsync()
    {
        await StopLoopsAsync();
        await _gate.WaitAsync();
        foreach (var g in _groups.Values) g.Done.TrySetException(new RelayFailedException("The node stopped", AbortReason.NodeRestarted));
        _store?.Dispose();
        _store = null;
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopped) return;
        await StopLoopsAsync();
        await _gate.WaitAsync();
        try
        {
            foreach (var g in _groups.Values.ToList()) AbortGroup(g, AbortReason.NodeRestarted);
            _store?.Dispose();
            _store = null;
        }
        finally { _gate.Release(); }
        _metrics.Dispose();
    }

    private async Task StopLoopsAsync()
    {
        _stopped = true;
        await _stop.CancelAsync();
        try { await Task.WhenAll(_loops); } catch (OperationCanceledException) { }
    }

    private RelayStore Store => _store ?? throw new ObjectDisposedException($"relay node {NodeId}");

    private DateTimeOffset Now => _options.TimeProvider.GetUtcNow();

    // Receiving.

    private async Task ReceiveLoopAsync(Neighbour n)
    {
        var stop = _stop.Token;
        while (!stop.IsCancellationRequested)
        {
            ReadOnlyMemory<byte> message;
            try
            {
                message = await n.Link.ReceiveAsync(stop);
            }
            catch (OperationCanceledException) { return; }
            catch (NeighbourLinkDownException)
            {
                if (stop.IsCancellationRequested) return;
                _logger.LogWarning("Node {Node}: link to {Neighbour} down", NodeId, n.Id);
                await AdvertiseSafelyAsync();
                try { await n.Link.WaitUntilUpAsync(stop); }
                catch (OperationCanceledException) { return; }
                _logger.LogInformation("Node {Node}: link to {Neighbour} up", NodeId, n.Id);
                await AdvertiseSafelyAsync();
                await SendDatabaseAsync(n);
                continue;
            }
            try
            {
                await HandleAsync(n, message);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { return; }
            catch (ObjectDisposedException) when (stop.IsCancellationRequested) { return; }
        }
    }

    private async Task AdvertiseSafelyAsync()
    {
        try { await AdvertiseAsync(); }
        catch (ObjectDisposedException) { }
    }

    private async Task HandleAsync(Neighbour from, ReadOnlyMemory<byte> message)
    {
        if (message.Length < 1) { Reject(ref _malformed, "malformed"); return; }
        var body = message[1..];
        switch (message.Span[0])
        {
            case AdvertisementEnvelope:
                LinkStateAdvertisement lsa;
                try { lsa = LinkStateAdvertisement.Decode(body.Span); }
                catch (FormatException) { Reject(ref _malformed, "malformed"); return; }
                if (lsa.Origin == NodeId || !LinkState.Accept(lsa)) return;
                byte[] onward = Envelope(AdvertisementEnvelope, lsa.Encode());
                foreach (var n in _neighbours.Values)
                    if (n != from) await TrySendAsync(n, onward);
                return;
            case RelayEnvelope:
                await HandleRelayAsync(from, body);
                await MaybeAdvertiseAsync();
                return;
            default:
                Reject(ref _malformed, "malformed");
                return;
        }
    }

    private async Task HandleRelayAsync(Neighbour from, ReadOnlyMemory<byte> bytes)
    {
        RelayMessage m;
        try { m = RelayCodec.Decode(bytes.Span); }
        catch (RelayMessageFormatException e)
        {
            _logger.LogWarning("Node {Node}: relay message from {Neighbour} refused: {Problem}", NodeId, from.Id, e.Message);
            Reject(ref _malformed, "malformed");
            return;
        }
        if (m.LinkKeyIds.Count == 0) { Reject(ref _forged, "forged"); return; }

        await _gate.WaitAsync(_stop.Token);
        byte[]? plain = null;
        try
        {
            LinkKey key;
            try { key = await from.Keys.TakeAsync(m.LinkKeyIds, HopAuthenticator.LinkKeyBytes(m.Payload.Length)); }
            catch (LinkKeyUnavailableException)
            {
                // The key it names is spent: a copy of a message already received (or named key this link never had).
                _logger.LogWarning("Node {Node}: {Message} from {Neighbour} refused: its link key is consumed (replay)", NodeId, m, from.Id);
                Reject(ref _replayed, "replayed");
                return;
            }
            try
            {
                plain = HopAuthenticator.Open(bytes.Span, m, key);
                Store.CountLinkKey(from.Id, 0, key.BytesConsumed);
                _metrics.LinkKeyBytes.Add(key.BytesConsumed, _metrics.Node, new("neighbour", from.Id), new("direction", "received"));
            }
            finally { CryptographicOperations.ZeroMemory(key.Material); }
            if (plain is null)
            {
                _logger.LogWarning("Node {Node}: {Message} from {Neighbour} refused: the tag does not verify (forged or corrupted)", NodeId, m, from.Id);
                Reject(ref _forged, "forged");
                return;
            }
            if (m.Kind == RelayMessageKind.Forward && (m.Path[m.PathIndex] != NodeId || m.PathIndex == 0 || m.Path[m.PathIndex - 1] != from.Id))
            {
                Reject(ref _malformed, "misrouted");
                return;
            }
            if (m.To != NodeId)
            {
                if (m.Kind == RelayMessageKind.Forward) await ForwardInTransitAsync(from, m, plain);
                else if (m.HopsLeft > 0) await SendControlAsync(m with { HopsLeft = (byte)(m.HopsLeft - 1) });
                return;
            }
            switch (m.Kind)
            {
                case RelayMessageKind.Forward: await ForwardArrivedAsync(m, plain); break;
                case RelayMessageKind.Confirm: await ConfirmArrivedAsync(m); break;
                case RelayMessageKind.Abort: await AbortArrivedAsync(m); break;
                case RelayMessageKind.AbortAck:
                    if (Store.Leg(m.RelayId) is { State: OriginLegState.Aborting }) Store.SetLegState(m.RelayId, OriginLegState.Aborted, AbortReason.None);
                    break;
            }
        }
        finally
        {
            if (plain is not null) CryptographicOperations.ZeroMemory(plain);
            _gate.Release();
        }
    }

    // Destination.

    private async Task ForwardArrivedAsync(RelayMessage m, byte[] keys)
    {
        var store = Store;
        switch (store.Destination(m.RelayId))
        {
            case DestinationState.Stored:
            case DestinationState.Expired:
                // A second copy (the Forward went two ways after a reroute, or the Confirm was lost): confirm again, store nothing.
                await SendControlAsync(Control(RelayMessageKind.Confirm, m.RelayId, m.Origin, m.Destination, m.Origin));
                return;
            case DestinationState.Aborted:
                await SendControlAsync(Control(RelayMessageKind.Abort, m.RelayId, m.Origin, m.Destination, m.Origin, AbortReason.Refused));
                return;
        }
        bool slavesHere = m.SlaveSaes.Count > 0 && m.SlaveSaes.All(s => _options.Topology.NodeOfSae(s)?.Id == NodeId);
        if (!slavesHere || m.KeySizeBytes != _keySizeBytes || _options.Topology.NodeOfSae(m.MasterSae)?.Id != m.Origin)
        {
            _logger.LogWarning("Node {Node}: {Message} refused: its SAEs or key size do not match the topology", NodeId, m);
            store.AbortDestination(m.RelayId, m.Origin, Now.UtcTicks);
            await SendControlAsync(Control(RelayMessageKind.Abort, m.RelayId, m.Origin, m.Destination, m.Origin, AbortReason.Refused));
            return;
        }
        store.StoreDestination(m.RelayId, m.Origin, m.MasterSae, m.SlaveSaes, m.KeyIds, keys, m.KeySizeBytes, Now.UtcTicks);
        await SendControlAsync(Control(RelayMessageKind.Confirm, m.RelayId, m.Origin, m.Destination, m.Origin));
    }

    // Transit.

    private async Task ForwardInTransitAsync(Neighbour from, RelayMessage m, byte[] keys)
    {
        var store = Store;
        if (m.HopsLeft == 0)
        {
            store.SetTransit(m.RelayId, m.Origin, from.Id, "", TransitState.Failed, Now.UtcTicks);
            await SendControlAsync(Control(RelayMessageKind.Abort, m.RelayId, m.Origin, m.Destination, m.Origin, AbortReason.NoRoute));
            return;
        }
        var next = m with { HopsLeft = (byte)(m.HopsLeft - 1) };
        if (!await SendForwardAsync(next, keys, m.Path.Take(m.PathIndex).ToHashSet(StringComparer.Ordinal), from.Id))
        {
            store.SetTransit(m.RelayId, m.Origin, from.Id, "", TransitState.Failed, Now.UtcTicks);
            await SendControlAsync(Control(RelayMessageKind.Abort, m.RelayId, m.Origin, m.Destination, m.Origin, AbortReason.NoRoute));
        }
    }

    /// <summary>
    /// Sends a Forward (as received, or as built at the origin) to the next node on its path, or, when that hop is down
    /// or short of key, on another path from here that avoids the nodes it already crossed. False when there is none.
    /// </summary>
    private async Task<bool> SendForwardAsync(RelayMessage m, byte[] keys, IReadOnlySet<string> crossed, string? from = null)
    {
        int need = HopAuthenticator.LinkKeyBytes(keys.Length);
        var path = m.Path;
        int at = m.PathIndex;
        var failed = new HashSet<string>(crossed, StringComparer.Ordinal);
        for (int attempt = 0; attempt < MaxSendAttempts; attempt++)
        {
            if (attempt > 0 || !Usable(path[at + 1], need))
            {
                if (attempt == 0) failed.Add(path[at + 1]);
                var route = RouteFinder.Find(View(), NodeId, m.Destination, need, failed);
                if (route is null) return false;
                path = [.. path.Take(at + 1), .. route.Skip(1)];
                Interlocked.Increment(ref _rerouted);
                _metrics.Rerouted.Add(1, _metrics.Node);
                _logger.LogInformation("Node {Node}: relay {Relay} rerouted via {Path}", NodeId, m.RelayId, string.Join('>', path));
            }
            string nextHop = path[at + 1];
            if (from is not null) Store.SetTransit(m.RelayId, m.Origin, from, nextHop, TransitState.Forwarding, Now.UtcTicks);
            var outgoing = m with { Path = path, PathIndex = at + 1 };
            if (await SendOnHopAsync(_neighbours[nextHop], outgoing, keys))
            {
                if (from is not null) Store.SetTransit(m.RelayId, m.Origin, from, nextHop, TransitState.Forwarded, Now.UtcTicks);
                return true;
            }
            failed.Add(nextHop);
        }
        return false;
    }

    private bool Usable(string neighbour, int need) =>
        _neighbours.TryGetValue(neighbour, out var n) && n.Link.IsUp && n.Keys.AvailableBytes >= need;

    // Origin.

    private async Task ConfirmArrivedAsync(RelayMessage m)
    {
        var leg = Store.Leg(m.RelayId);
        if (leg is null) return;
        switch (leg.Value.State)
        {
            case OriginLegState.Sent when _groups.TryGetValue(leg.Value.GroupId, out var group):
                Store.SetLegState(m.RelayId, OriginLegState.Confirmed);
                group.Legs[m.RelayId] = true;
                if (group.Legs.Values.All(c => c)) Commit(group);
                break;
            case OriginLegState.Aborting:
                // The destination stored keys of a relay given up here: it must drop them.
                await SendControlAsync(Control(RelayMessageKind.Abort, m.RelayId, NodeId, leg.Value.Destination, leg.Value.Destination, AbortReason.Timeout));
                break;
        }
    }

    private async Task AbortArrivedAsync(RelayMessage m)
    {
        if (m.Destination == NodeId)
        {
            int dropped = Store.AbortDestination(m.RelayId, m.Origin, Now.UtcTicks);
            if (dropped > 0) _logger.LogInformation("Node {Node}: relay {Relay} rolled back here ({Keys} keys dropped)", NodeId, m.RelayId, dropped);
            await SendControlAsync(Control(RelayMessageKind.AbortAck, m.RelayId, m.Origin, m.Destination, m.Origin));
            return;
        }
        var leg = Store.Leg(m.RelayId);
        if (leg is { State: OriginLegState.Sent or OriginLegState.Confirmed } && _groups.TryGetValue(leg.Value.GroupId, out var group))
        {
            AbortGroup(group, m.Reason);
            await SendAbortsAsync(group.Id);
        }
    }

    private void Commit(Group group)
    {
        var store = Store;
        store.SetGroupState(group.Id, OriginLegState.Committed, AbortReason.None, () =>
        {
            if (group.LocalSlaves.Count > 0)
                store.StoreDestination(group.Id, NodeId, group.Master, group.LocalSlaves, group.KeyIds, group.Keys, group.KeySizeBytes, Now.UtcTicks, inTransaction: true);
        });
        var keys = new List<RelayedKey>(group.KeyIds.Length);
        for (int i = 0; i < group.KeyIds.Length; i++)
            keys.Add(new RelayedKey(group.KeyIds[i], group.Keys.AsSpan(i * group.KeySizeBytes, group.KeySizeBytes).ToArray()));
        Forget(group);
        Interlocked.Add(ref _keysRelayed, keys.Count);
        _metrics.KeysRelayed.Add(keys.Count, _metrics.Node);
        _metrics.RelaySeconds.Record((Now - group.Started).TotalSeconds, _metrics.Node);
        group.Done.TrySetResult(keys);
    }

    private void AbortGroup(Group group, AbortReason reason)
    {
        Store.SetGroupState(group.Id, OriginLegState.Aborting, reason);
        _metrics.LegsAborted.Add(group.Legs.Count, _metrics.Node);
        Forget(group);
        _logger.LogInformation("Node {Node}: relay group {Group} rolled back ({Reason})", NodeId, group.Id, reason);
        group.Done.TrySetException(new RelayFailedException($"Relay of {group.KeyIds.Length} keys from '{group.Master}' rolled back: {reason}", reason));
    }

    private async Task SendAbortsAsync(Guid groupId)
    {
        foreach (var (relayId, destination, _) in Store.LegsIn(OriginLegState.Aborting))
            if (Store.Leg(relayId)?.GroupId == groupId)
                await SendControlAsync(Control(RelayMessageKind.Abort, relayId, NodeId, destination, destination, AbortReason.OtherLegFailed));
    }

    private void Forget(Group group)
    {
        _groups.Remove(group.Id);
        foreach (var leg in group.Legs.Keys) _groupOfLeg.Remove(leg);
        group.Dispose();
    }

    // Sending.

    private RelayMessage Control(RelayMessageKind kind, Guid relayId, string origin, string destination, string to, AbortReason reason = AbortReason.None) =>
        new() { Kind = kind, RelayId = relayId, Origin = origin, Destination = destination, To = to, Reason = kind == RelayMessageKind.Abort ? reason : AbortReason.None };

    /// <summary>Sends a control message one hop on the cheapest path to its addressee (another path if that hop fails).</summary>
    private async Task<bool> SendControlAsync(RelayMessage m)
    {
        int need = HopAuthenticator.LinkKeyBytes(0);
        var failed = new HashSet<string>(StringComparer.Ordinal);
        for (int attempt = 0; attempt < MaxSendAttempts; attempt++)
        {
            var route = RouteFinder.Find(View(), NodeId, m.To, need, failed);
            if (route is null || route.Count < 2) return false;
            if (await SendOnHopAsync(_neighbours[route[1]], m, [])) return true;
            failed.Add(route[1]);
        }
        return false;
    }

    /// <summary>Seals <paramref name="m"/> with fresh key of the link to <paramref name="n"/> and sends it. False if the link is down or short of key (the key taken is spent either way).</summary>
    private async Task<bool> SendOnHopAsync(Neighbour n, RelayMessage m, byte[] plainPayload)
    {
        if (!n.Link.IsUp) return false;
        LinkKey key;
        try { key = await n.Keys.TakeAsync(HopAuthenticator.LinkKeyBytes(plainPayload.Length)); }
        catch (LinkKeyExhaustedException) { return false; }
        byte[] sealedMessage;
        try
        {
            sealedMessage = HopAuthenticator.Seal(m, plainPayload, key);
            Store.CountLinkKey(n.Id, key.BytesConsumed, 0);
            _metrics.LinkKeyBytes.Add(key.BytesConsumed, _metrics.Node, new("neighbour", n.Id), new("direction", "sent"));
        }
        finally { CryptographicOperations.ZeroMemory(key.Material); }
        return await TrySendAsync(n, Envelope(RelayEnvelope, sealedMessage));
    }

    private async Task<bool> TrySendAsync(Neighbour n, byte[] message)
    {
        await n.SendLock.WaitAsync();
        try
        {
            await n.Link.SendAsync(message);
            return true;
        }
        catch (NeighbourLinkDownException) { return false; }
        finally { n.SendLock.Release(); }
    }

    private async Task SendDatabaseAsync(Neighbour n)
    {
        foreach (var lsa in LinkState.Snapshot())
            await TrySendAsync(n, Envelope(AdvertisementEnvelope, lsa.Encode()));
    }

    private async Task MaybeAdvertiseAsync()
    {
        bool changed = _neighbours.Values.Any(n =>
        {
            long now = n.Keys.AvailableBytes, then = n.AdvertisedAvailable;
            return Math.Abs(now - then) > _options.AdvertiseOnChangeFraction * Math.Max(then, 1);
        });
        if (changed && !_stopped) await AdvertiseSafelyAsync();
    }

    private async Task SweepLoopAsync(TimeSpan every)
    {
        using var timer = new PeriodicTimer(every, _options.TimeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                await SweepAsync();
                await AdvertiseAsync();
            }
        }
        catch (OperationCanceledException) { }
        catch (ObjectDisposedException) { }
    }

    private static byte[] Envelope(byte kind, ReadOnlySpan<byte> body)
    {
        var bytes = new byte[body.Length + 1];
        bytes[0] = kind;
        body.CopyTo(bytes.AsSpan(1));
        return bytes;
    }

    private LinkStateAdvertisement OwnAdvertisement(long sequence) =>
        new(NodeId, sequence, 0, _neighbours.Values
            .Select(n => new AdvertisedLink(n.Id, n.Link.IsUp, n.Keys.AvailableBytes, n.Keys.KeyRateBytesPerSecond)).ToList());

    private NetworkView View() =>
        new(LinkState.Snapshot().Where(l => l.Origin != NodeId).Append(OwnAdvertisement(0)));

    private void Reject(ref long counter, string reason)
    {
        Interlocked.Increment(ref counter);
        _metrics.Rejected.Add(1, _metrics.Node, new("reason", reason));
    }

    private sealed class Neighbour(INeighbourLink link, ILinkKeySource keys)
    {
        public string Id => Link.NeighbourId;
        public INeighbourLink Link { get; } = link;
        public ILinkKeySource Keys { get; } = keys;
        public SemaphoreSlim SendLock { get; } = new(1, 1);
        public long AdvertisedAvailable { get; set; }
    }

    /// <summary>One request: its keys (in memory only, zeroised once handed out or rolled back) and its legs, one per destination node.</summary>
    private sealed class Group(Guid id, string master, int count, int keySizeBytes, DateTimeOffset started) : IDisposable
    {
        public Guid Id { get; } = id;
        public string Master { get; } = master;
        public int KeySizeBytes { get; } = keySizeBytes;
        public DateTimeOffset Started { get; } = started;
        public byte[] Keys { get; } = new byte[count * keySizeBytes];
        public Guid[] KeyIds { get; } = new Guid[count];
        public Dictionary<Guid, bool> Legs { get; } = [];
        public List<string> LocalSlaves { get; } = [];
        public TaskCompletionSource<IReadOnlyList<RelayedKey>> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Dispose() => CryptographicOperations.ZeroMemory(Keys);
    }
}
