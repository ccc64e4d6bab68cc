namespace Qkd.Status;

/// <summary>
/// The status document served as <c>GET /status.json</c> and drawn by the status page, all of it in one response so the
/// page never mixes two moments. Values not yet known are null ("no data yet" on the page), never NaN or zero.
/// </summary>
public sealed record StatusDocument(
    DateTimeOffset GeneratedAt,
    string LinkId,
    string Role,
    DateTimeOffset RunningSince,
    StatusHeadline Headline,
    LatestValues Latest,
    IReadOnlyList<BlockPoint> Blocks,
    PoolStatus? Pool,
    IReadOnlyList<DeviceHealth> Devices,
    IReadOnlyList<AlarmEntry> Alarms);

/// <summary>The sentence at the top of the page.</summary>
/// <param name="State">One of <see cref="HeadlineState"/>'s names: producing, attention, stopped, noData.</param>
/// <param name="Text">"Link is producing key", "Key generation stopped", ...</param>
/// <param name="Reason">Why, when it is not simply producing; null otherwise.</param>
public sealed record StatusHeadline(string State, string Text, string? Reason);

/// <summary>The last values, each null until there is one.</summary>
/// <param name="BlockId">The last block's number.</param>
/// <param name="BlockAt">When the last block was reported.</param>
/// <param name="QberZPercent">Key-basis error rate of the last block that measured it, percent.</param>
/// <param name="QberXPercent">Test-basis error rate of the last block that measured it, percent.</param>
/// <param name="Transmittance">Channel transmittance of the last block that estimated it, a fraction.</param>
/// <param name="LossDb">The same as a loss, -10 log10(transmittance), dB.</param>
/// <param name="KeyRateBitsPerSecond">Secret bits of the last ten minutes' blocks over the time they took (less when the node is younger), bit/s.</param>
/// <param name="SecretBitsTotal">Secret bits since the node started.</param>
/// <param name="BlocksTotal">Blocks reported since the node started.</param>
/// <param name="BlocksWithoutKey">Of those, blocks that gave no key.</param>
public sealed record LatestValues(long? BlockId, DateTimeOffset? BlockAt, double? QberZPercent, double? QberXPercent, double? Transmittance,
    double? LossDb, double? KeyRateBitsPerSecond, long SecretBitsTotal, long BlocksTotal, long BlocksWithoutKey);

/// <summary>One block on the charts (the last <see cref="StatusBoard.BlockHistory"/> blocks).</summary>
/// <param name="KeyRateBitsPerSecond">The block's secret bits over the time since the block before it (or since the node started), bit/s.</param>
public sealed record BlockPoint(long BlockId, DateTimeOffset At, bool ProducedKey, string? Reason, double? QberZPercent, double? QberXPercent,
    double? LossDb, double KeyRateBitsPerSecond, long SecretBits);

/// <summary>The key pool now and its recent history (sampled at most once a second while someone watches, and at every block).</summary>
public sealed record PoolStatus(KeyPoolSizes Now, IReadOnlyList<PoolPoint> History);

/// <summary>One sample of the pool's sizes.</summary>
public sealed record PoolPoint(DateTimeOffset At, long AvailableAsMaster, long HeldForPeer);

/// <summary>An alarm as served: <see cref="StatusAlarm"/>'s fields with NaN turned to null and the raised flag spelled out.</summary>
public sealed record AlarmEntry(string Kind, bool ThreatensSecurity, bool Raised, DateTimeOffset RaisedAt, DateTimeOffset? ClearedAt, long? BlockId,
    string Message, double? Value, double? Threshold);

/// <summary>The headline's states, from good to bad.</summary>
public enum HeadlineState
{
    /// <summary>Nothing distilled yet since the node started.</summary>
    NoData,

    /// <summary>The last block gave key and nothing is wrong.</summary>
    Producing,

    /// <summary>The last block gave key, but an alarm that does not threaten security is raised or a device is unhealthy.</summary>
    Attention,

    /// <summary>The last block gave no key, or a security alarm stops key generation.</summary>
    Stopped,
}
