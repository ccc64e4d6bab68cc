using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Qkd.Network.Relay;
using Qkd.Network.Topology;

namespace Qkd.NetworkHost;

/// <summary>
/// The relay requests one node makes while a network run's load is on, as its master SAEs would: enc_keys for an SAE of
/// every node that is not its neighbour (<see cref="RelayLoadOptions.IncludeNeighbours"/> adds the neighbours), taken in
/// turn, <see cref="RelayLoadOptions.Concurrency"/> at once. A request waits while no route has enough link key (the
/// links are still distilling) rather than failing. Keys handed back are zeroised at once: the load measures the relay.
/// Per destination it counts requests, keys, failures by reason, the hops of the route at request time and latency.
/// </summary>
internal sealed class RelayLoad(RelayNode relay, NetworkTopology topology, string nodeId, RelayLoadOptions options, ILogger logger)
{
    private static readonly TimeSpan NoRouteWait = TimeSpan.FromMilliseconds(250);
    private readonly Dictionary<string, Flow> _flows = Destinations(topology, nodeId, options).ToDictionary(d => d.Id, d => new Flow(d.Id), StringComparer.Ordinal);
    private readonly string[] _masters = [.. topology.Nodes.First(n => n.Id == nodeId).Saes];
    private readonly Stopwatch _clock = new();
    private CancellationTokenSource? _stop;
    private Task _workers = Task.CompletedTask;
    private long _next;

    public bool Running => _stop is not null;

    public double Seconds => _clock.Elapsed.TotalSeconds;

    /// <summary>The nodes this node relays to: with SAEs, not itself, not a neighbour unless asked.</summary>
    public static IEnumerable<NodeSpec> Destinations(NetworkTopology topology, string nodeId, RelayLoadOptions options)
    {
        var neighbours = topology.LinksOf(nodeId).Select(l => l.Other(nodeId)).ToHashSet(StringComparer.Ordinal);
        return topology.Nodes.Where(n => n.Id != nodeId && n.Saes.Count > 0 && (options.IncludeNeighbours || !neighbours.Contains(n.Id)));
    }

    public void Start(CancellationToken stopping)
    {
        if (_masters.Length == 0 || _flows.Count == 0)
        {
            logger.LogInformation("Node {Node} has no master SAE or no destination beyond its neighbours: it relays for others only", nodeId);
            return;
        }
        _stop = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        _clock.Start();
        _workers = Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(_ => Task.Run(() => WorkAsync(_stop.Token))));
    }

    public async Task StopAsync()
    {
        if (_stop is null) return;
        await _stop.CancelAsync();
        await _workers;
        _clock.Stop();
    }

    public IReadOnlyList<RelayFlowResult> Flows()
    {
        lock (_flows) return [.. _flows.Values.Select(f => f.Result())];
    }

    private async Task WorkAsync(CancellationToken stop)
    {
        var destinations = _flows.Keys.ToArray();
        while (!stop.IsCancellationRequested)
        {
            long n = Interlocked.Increment(ref _next);
            string destination = destinations[n % destinations.Length];
            var target = topology.Nodes.First(x => x.Id == destination);
            string master = _masters[n % _masters.Length], slave = target.Saes[(int)(n / destinations.Length % target.Saes.Count)];
            var route = relay.RouteTo(destination, options.KeysPerRequest);
            if (route is null)
            {
                try { await Task.Delay(NoRouteWait, stop); } catch (OperationCanceledException) { return; }
                continue;
            }
            var flow = _flows[destination];
            lock (_flows) flow.Requested(route.Count - 1);
            var started = Stopwatch.GetTimestamp();
            try
            {
                var keys = await relay.RequestKeysAsync(master, [slave], options.KeysPerRequest, stop);
                foreach (var k in keys) CryptographicOperations.ZeroMemory(k.Key);
                lock (_flows) flow.Committed(keys.Count, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            catch (RelayFailedException e) when (stop.IsCancellationRequested && e.Reason == AbortReason.Cancelled)
            {
                lock (_flows) flow.Failed("cancelledAtStop");
                return;
            }
            catch (RelayFailedException e)
            {
                lock (_flows) flow.Failed(e.Reason.ToString());
                logger.LogDebug("Relay {Node} -> {Destination} failed: {Error}", nodeId, destination, e.Message);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (ObjectDisposedException) when (stop.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private sealed class Flow(string destination)
    {
        private readonly List<double> _latencies = [];
        private readonly Dictionary<string, long> _failedBy = new(StringComparer.Ordinal);
        private long _requests, _committed, _keys, _failed, _hopSum;
        private int _minHops = int.MaxValue, _maxHops;

        public void Requested(int hops)
        {
            _requests++;
            _hopSum += hops;
            _minHops = Math.Min(_minHops, hops);
            _maxHops = Math.Max(_maxHops, hops);
        }

        public void Committed(int keys, double milliseconds)
        {
            _committed++;
            _keys += keys;
            _latencies.Add(milliseconds);
        }

        public void Failed(string reason)
        {
            // A request cancelled because the run ended is not the network's failure: counted apart.
            if (reason != "cancelledAtStop") _failed++;
            _failedBy[reason] = _failedBy.GetValueOrDefault(reason) + 1;
        }

        public RelayFlowResult Result()
        {
            var sorted = _latencies.Order().ToArray();
            return new RelayFlowResult
            {
                Destination = destination,
                Requests = _requests,
                Committed = _committed,
                Keys = _keys,
                Failed = _failed,
                FailedBy = new Dictionary<string, long>(_failedBy),
                MinHops = _requests == 0 ? 0 : _minHops,
                MaxHops = _maxHops,
                MeanHops = _requests == 0 ? 0 : Math.Round((double)_hopSum / _requests, 2),
                MeanLatencyMs = sorted.Length == 0 ? 0 : Math.Round(sorted.Average(), 1),
                P95LatencyMs = sorted.Length == 0 ? 0 : Math.Round(sorted[Math.Min(sorted.Length - 1, (int)(0.95 * sorted.Length))], 1),
            };
        }
    }
}
