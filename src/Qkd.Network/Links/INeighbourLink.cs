namespace Qkd.Network.Links;

/// <summary>
/// The network's view of one neighbour: an ordered, authenticated stream of whole network messages (link-state
/// advertisements and relay messages) to and from the node at the other end of one QKD link. In production it is a
/// classical channel of its own beside the KME link (<see cref="ClassicalChannelNeighbourLink"/>: TCP, session,
/// Wegman-Carter with the link's pad); in tests an in-memory pair. Relay messages carry their own per-hop tag on top.
/// </summary>
public interface INeighbourLink
{
    /// <summary>The node at the other end.</summary>
    string NeighbourId { get; }

    /// <summary>Whether the link is up now (a send may still fail).</summary>
    bool IsUp { get; }

    /// <summary>Sends one message; throws <see cref="NeighbourLinkDownException"/> when the link is down.</summary>
    ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default);

    /// <summary>The next message from the neighbour; throws <see cref="NeighbourLinkDownException"/> when the link goes down.</summary>
    ValueTask<ReadOnlyMemory<byte>> ReceiveAsync(CancellationToken cancellationToken = default);

    /// <summary>Completes when the link is up again (a new session with the neighbour).</summary>
    Task WaitUntilUpAsync(CancellationToken cancellationToken = default);
}

/// <summary>The link to a neighbour is down (cut, or the neighbour went away).</summary>
public sealed class NeighbourLinkDownException(string neighbourId, Exception? inner = null)
    : Exception($"The link to neighbour '{neighbourId}' is down", inner)
{
    public string NeighbourId { get; } = neighbourId;
}
