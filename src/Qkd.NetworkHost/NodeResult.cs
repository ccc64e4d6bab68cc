namespace Qkd.NetworkHost;

/// <summary>
/// What one node process reports: as a status line while it runs (`@qkd-network status {json}` on standard output)
/// and as its result file when it stops. Figures only, never key material.
/// </summary>
public sealed record NodeResult
{
    public required string Node { get; init; }

    /// <summary>The node's ETSI GS QKD 014 server (https://address:port/), or null when it serves none.</summary>
    public string? KeyDelivery { get; init; }

    /// <summary>Keys handed to this node's master SAEs after every destination confirmed (relays it originated).</summary>
    public long RelayedKeys { get; init; }

    /// <summary>Seconds the relay load ran here.</summary>
    public double LoadSeconds { get; init; }

    /// <summary>True once every link of the node holds key and its neighbour link is up.</summary>
    public bool LinksReady { get; init; }

    /// <summary>What went wrong, if the node failed (one line).</summary>
    public string? Failure { get; init; }

    public required IReadOnlyList<LinkResult> Links { get; init; }

    /// <summary>Per destination node this node relayed to.</summary>
    public required IReadOnlyList<RelayFlowResult> Flows { get; init; }

    /// <summary>The relay's own figures (RelayNode.Status()).</summary>
    public RelayFigures? Relay { get; init; }
}

/// <summary>One link as one of its ends sees it.</summary>
public sealed record LinkResult
{
    public required string LinkId { get; init; }
    public required string Neighbour { get; init; }
    public required string Role { get; init; }

    /// <summary>Where this link's key came from (the QKD link end that fills the pool).</summary>
    public required string KeySource { get; init; }

    /// <summary>The network's classical channel to the neighbour is up.</summary>
    public bool NeighbourLinkUp { get; init; }

    /// <summary>Keys the QKD link distilled into this end's pool so far, and as bits per second of link running time.</summary>
    public long DistilledKeys { get; init; }
    public double DistilledBitsPerSecond { get; init; }

    /// <summary>Keys this end may still send with (master) and holds for the neighbour.</summary>
    public long PoolAvailableAsMaster { get; init; }
    public long PoolHeldForPeer { get; init; }

    /// <summary>QKD sessions the link end finished.</summary>
    public int Sessions { get; init; }

    /// <summary>Seconds from the node's start until this end first held key (null: not yet).</summary>
    public double? FirstKeyAfterSeconds { get; init; }

    /// <summary>Link key consumed by relay messages on this link, bytes (sent with, received with).</summary>
    public long LinkKeySentBytes { get; init; }
    public long LinkKeyReceivedBytes { get; init; }
}

/// <summary>Relay requests from this node to one destination node.</summary>
public sealed record RelayFlowResult
{
    public required string Destination { get; init; }
    public long Requests { get; init; }
    public long Committed { get; init; }
    public long Keys { get; init; }
    public long Failed { get; init; }

    /// <summary>Failures by reason (no route, timeout, hop failed, ...).</summary>
    public IReadOnlyDictionary<string, long> FailedBy { get; init; } = new Dictionary<string, long>();

    /// <summary>Hops of the route chosen at request time (nodes crossed + 1), smallest and largest seen, and the mean.</summary>
    public int MinHops { get; init; }
    public int MaxHops { get; init; }
    public double MeanHops { get; init; }

    /// <summary>Request to commit, milliseconds (mean and 95th percentile of committed requests; 0 without any).</summary>
    public double MeanLatencyMs { get; init; }
    public double P95LatencyMs { get; init; }
}

/// <summary>The node's relay figures as the relay keeps them.</summary>
public sealed record RelayFigures
{
    public int LegsCommitted { get; init; }
    public int LegsAborted { get; init; }
    public int LegsInFlight { get; init; }
    public int DestinationsStored { get; init; }
    public int DestinationsAborted { get; init; }
    public long KeysHeldForSlaves { get; init; }
    /// <summary>Relayed keys deleted here unfetched after <c>relayedKeyLifetimeSeconds</c> (one per key and slave SAE).</summary>
    public long KeysExpired { get; init; }
    public int TransitsForwarded { get; init; }
    public int TransitsFailed { get; init; }
    public long ForgedRejected { get; init; }
    public long ReplayedRejected { get; init; }
    public long MalformedRejected { get; init; }
    public long Rerouted { get; init; }
}
