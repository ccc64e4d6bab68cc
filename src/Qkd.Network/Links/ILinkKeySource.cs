namespace Qkd.Network.Links;

/// <summary>
/// The key of one QKD link as the relay uses it: one-time pad and authentication key for the messages to and from
/// that neighbour. The sender takes fresh key (<see cref="TakeAsync(int, CancellationToken)"/>) and names it in the
/// message by its IDs; the receiver takes the same key by those IDs (<see cref="TakeAsync(IReadOnlyList{Guid}, int, CancellationToken)"/>).
/// Either way the key leaves the pool for good: key is consumed once, never reused, and a message naming key already
/// consumed is a replay.
/// </summary>
public interface ILinkKeySource
{
    /// <summary>The neighbour at the other end of the link.</summary>
    string NeighbourId { get; }

    /// <summary>Key this end can still take as sender, bytes (what routing advertises).</summary>
    long AvailableBytes { get; }

    /// <summary>Key added to the link recently, bytes per second (advertised; a hint for routing, not a promise).</summary>
    double KeyRateBytesPerSecond { get; }

    /// <summary>
    /// Takes at least <paramref name="bytes"/> of fresh key this end may send with; returns exactly that many bytes and
    /// the IDs that name it (the caller zeroises <see cref="LinkKey.Material"/>).
    /// </summary>
    /// <exception cref="LinkKeyExhaustedException">Less key than asked; nothing taken.</exception>
    ValueTask<LinkKey> TakeAsync(int bytes, CancellationToken cancellationToken = default);

    /// <summary>Takes the key the neighbour sent with, by its IDs; the same bytes the neighbour got.</summary>
    /// <exception cref="LinkKeyUnavailableException">An ID is unknown, not the neighbour's to send with, or already consumed (a replay); nothing taken.</exception>
    ValueTask<LinkKey> TakeAsync(IReadOnlyList<Guid> keyIds, int bytes, CancellationToken cancellationToken = default);
}

/// <summary>Link key taken from a pool: the IDs that name it and its bytes (the holder zeroises them).</summary>
public sealed record LinkKey(IReadOnlyList<Guid> KeyIds, byte[] Material)
{
    /// <summary>Key the pool gave up for this (a pool cuts key in fixed units: the tail of the last unit is wasted).</summary>
    public int BytesConsumed { get; init; } = Material.Length;
}

/// <summary>The link has less key than a relay message needs.</summary>
public sealed class LinkKeyExhaustedException(string neighbourId, int requested, long available)
    : Exception($"The link to '{neighbourId}' holds {available} bytes of key, {requested} needed")
{
    public string NeighbourId { get; } = neighbourId;
}

/// <summary>The key a received message names cannot be taken: unknown, not the sender's, or already consumed.</summary>
public sealed class LinkKeyUnavailableException(string neighbourId, string reason, Exception? inner = null)
    : Exception($"Link key from '{neighbourId}' unavailable: {reason}", inner)
{
    public string NeighbourId { get; } = neighbourId;
}
