using Qkd.Kme.Pool;
using Qkd.Network.Topology;

namespace Qkd.Network.Relay;

/// <summary>Settings of one node's relay and routing.</summary>
public sealed record RelayNodeOptions
{
    /// <summary>This node's ID in the topology.</summary>
    public required string NodeId { get; init; }

    /// <summary>The network (which SAE is attached where; key size).</summary>
    public required NetworkTopology Topology { get; init; }

    /// <summary>The node's relay state (SQLite; -wal and -shm beside it).</summary>
    public required string DatabasePath { get; init; }

    /// <summary>Seals the keys held for slave SAEs at rest (the KME's operator key).</summary>
    public required OperatorKey OperatorKey { get; init; }

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>An origin gives up a relay not confirmed within this (at the next sweep), and rolls it back.</summary>
    public TimeSpan RelayTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a destination keeps relayed keys its slave SAEs have not fetched (dec_keys), from when it stored them;
    /// then they are deleted (counted in <see cref="RelayStatus.KeysExpired"/> and <c>qkd.relay.expired</c>) and a
    /// later dec_keys for them gets the unknown-key error. One hour, as the link pool's reservations. At least twice
    /// <see cref="RelayTimeout"/>: a key must not expire while its origin may still commit it.
    /// </summary>
    public TimeSpan HeldKeyLifetime { get; init; } = TimeSpan.FromHours(1);

    /// <summary>A link-state advertisement older than this no longer counts.</summary>
    public TimeSpan AdvertisementMaxAge { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How often the node sweeps (stale relays, unacknowledged aborts) and re-advertises its links; null: only when called (tests).</summary>
    public TimeSpan? SweepInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>A link whose available key moved by this fraction since it was last advertised is advertised again.</summary>
    public double AdvertiseOnChangeFraction { get; init; } = 0.1;
}
