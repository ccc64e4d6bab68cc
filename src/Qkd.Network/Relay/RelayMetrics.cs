using System.Diagnostics.Metrics;

namespace Qkd.Network.Relay;

/// <summary>Instruments of meter <c>Qkd.Network</c>: <c>qkd.relay.*</c>, tagged with the node (and the neighbour for link key).</summary>
internal sealed class RelayMetrics : IDisposable
{
    private readonly Meter _meter = new("Qkd.Network");
    private readonly KeyValuePair<string, object?> _node;

    public Counter<long> KeysRelayed { get; }
    public Counter<long> LegsAborted { get; }
    public Counter<long> Rejected { get; }
    public Counter<long> LinkKeyBytes { get; }
    public Counter<long> Rerouted { get; }
    public Counter<long> KeysExpired { get; }
    public Histogram<double> RelaySeconds { get; }

    public RelayMetrics(string nodeId)
    {
        _node = new("node", nodeId);
        KeysRelayed = _meter.CreateCounter<long>("qkd.relay.keys", "{key}", "Keys handed to master SAEs after every destination confirmed");
        LegsAborted = _meter.CreateCounter<long>("qkd.relay.aborted", "{relay}", "Relay legs rolled back");
        Rejected = _meter.CreateCounter<long>("qkd.relay.rejected", "{message}", "Relay messages rejected (reason: forged, replayed, malformed)");
        LinkKeyBytes = _meter.CreateCounter<long>("qkd.relay.link_key", "By", "Link key consumed by relay messages (neighbour, direction)");
        Rerouted = _meter.CreateCounter<long>("qkd.relay.rerouted", "{relay}", "Relays sent on another path than planned");
        KeysExpired = _meter.CreateCounter<long>("qkd.relay.expired", "{key}", "Relayed keys deleted at their destination unfetched after the held-key lifetime (one per key and slave SAE)");
        RelaySeconds = _meter.CreateHistogram<double>("qkd.relay.duration", "s", "From the request to the last destination's confirmation");
    }

    public KeyValuePair<string, object?> Node => _node;

    public void Dispose() => _meter.Dispose();
}
