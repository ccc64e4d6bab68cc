namespace Qkd.NetworkHost;

/// <summary>
/// The report of a network run (`qkd network up --report r.json`): relayed keys first (the headline), throughput, how
/// the links made their key, then per link and per node. Figures only, never key material.
/// </summary>
public sealed record NetworkReport
{
    public string Format { get; init; } = "qkd-network-report/1";

    /// <summary>Keys handed to master SAEs after every destination confirmed, all origins together.</summary>
    public long RelayedKeys { get; init; }

    /// <summary>Relayed keys per second of load.</summary>
    public double KeysPerSecond { get; init; }

    public long Requests { get; init; }
    public long RequestsCommitted { get; init; }
    public long RequestsFailed { get; init; }

    /// <summary>Hops of the routes requests took (chosen at request time), mean over every request.</summary>
    public double MeanHops { get; init; }
    public int MaxHops { get; init; }

    /// <summary>Link key consumed by relay messages per relayed key, bytes, summed over every hop (sender side).</summary>
    public double LinkKeyBytesPerRelayedKey { get; init; }

    public required string Topology { get; init; }
    public int NodeCount { get; init; }
    public int LinkCount { get; init; }

    /// <summary>Where every link's key came from.</summary>
    public required string LinkKeySource { get; init; }

    public DateTimeOffset StartedAt { get; init; }

    /// <summary>Seconds from start until every link held key and its channel was up (null: not within the start-up limit).</summary>
    public double? NetworkReadyAfterSeconds { get; init; }

    /// <summary>Seconds the relay load ran.</summary>
    public double LoadSeconds { get; init; }

    public double WallClockSeconds { get; init; }

    /// <summary>Null when the run went as asked; otherwise why not (one line).</summary>
    public string? Failure { get; init; }

    public required IReadOnlyList<NetworkLinkReport> Links { get; init; }

    public required IReadOnlyList<NetworkNodeReport> Nodes { get; init; }
}

/// <summary>One link as its two ends report it.</summary>
public sealed record NetworkLinkReport
{
    public required string Id { get; init; }
    public required string A { get; init; }
    public required string B { get; init; }
    public double DistanceKm { get; init; }
    public double LossDb { get; init; }

    /// <summary>Keys distilled (Alice's end's pool), and as bits per second of the run.</summary>
    public long DistilledKeys { get; init; }
    public double DistilledBitsPerSecond { get; init; }

    /// <summary>Keys each end may still send with.</summary>
    public long PoolKeysA { get; init; }
    public long PoolKeysB { get; init; }

    /// <summary>Link key relay messages used on this link, bytes, both directions.</summary>
    public long LinkKeyUsedBytes { get; init; }
}

/// <summary>One node process: how it ended and what it did.</summary>
public sealed record NetworkNodeReport
{
    public required string Id { get; init; }
    public int? ExitCode { get; init; }
    public string? Failure { get; init; }
    public required string Log { get; init; }
    public NodeResult? Result { get; init; }
}
