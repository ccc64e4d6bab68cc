namespace Qkd.Network.Relay;

/// <summary>One node's relay figures (the node's status and report show them).</summary>
public sealed record RelayStatus
{
    public required string NodeId { get; init; }

    /// <summary>Relay legs this node originated, by state.</summary>
    public int LegsCommitted { get; init; }
    public int LegsAborted { get; init; }
    public int LegsInFlight { get; init; }

    /// <summary>Keys handed to master SAEs here after every destination confirmed.</summary>
    public long KeysRelayed { get; init; }

    /// <summary>Relays stored here as destination, and rolled back here.</summary>
    public int DestinationsStored { get; init; }
    public int DestinationsAborted { get; init; }

    /// <summary>Keys waiting here for a slave SAE's dec_keys (one per key and slave).</summary>
    public long KeysHeldForSlaves { get; init; }

    /// <summary>Relays whose unfetched keys expired here, and those keys (one per key and slave; over the store's life).</summary>
    public int DestinationsExpired { get; init; }
    public long KeysExpired { get; init; }

    /// <summary>Relays that passed through here, and that could not go on.</summary>
    public int TransitsForwarded { get; init; }
    public int TransitsFailed { get; init; }

    public long ForgedRejected { get; init; }
    public long ReplayedRejected { get; init; }
    public long MalformedRejected { get; init; }
    public long Rerouted { get; init; }

    /// <summary>Link key consumed by relay messages, per neighbour link (as sender and as receiver).</summary>
    public required IReadOnlyList<LinkKeyUsage> LinkKey { get; init; }
}
