using Microsoft.Extensions.Logging;
using Qkd.Core.Channel;

namespace Qkd.Kme.PeerLink;

/// <summary>
/// Opens a session on a fresh classical channel: the two nodes exchange <see cref="SessionHello"/>, check they serve
/// the same link, take the next session number both have never used, and drop from their pools the blocks the other
/// end does not hold (so both pools agree before new keys are added).
/// </summary>
public static class SessionHandshake
{
    public sealed record Outcome(long Session, long KeysDiscarded, int BlocksDiscarded);

    /// <param name="protocolVersion">The protocol version this node speaks; a peer with another is refused, naming both.</param>
    /// <param name="initiator">Alice speaks first.</param>
    public static async Task<Outcome> RunAsync(IClassicalChannel channel, string linkId, ushort protocolVersion, SessionCounter counter,
        IBlockLedger ledger, bool initiator, ILogger logger, CancellationToken cancellationToken)
    {
        var mine = new SessionHello(protocolVersion, linkId, counter.Last, ledger.StoredBlockIds());
        SessionHello peer;
        if (initiator)
        {
            await channel.SendAsync(mine.ToMessage(), cancellationToken);
            peer = SessionHello.Read((await channel.ReceiveAsync(cancellationToken)).Span, protocolVersion);
        }
        else
        {
            // Answer before judging: a peer of another version then learns both versions from this hello too, instead
            // of waiting for an answer that never comes.
            var received = await channel.ReceiveAsync(cancellationToken);
            await channel.SendAsync(mine.ToMessage(), cancellationToken);
            peer = SessionHello.Read(received.Span, protocolVersion);
        }
        if (peer.LinkId != linkId)
            throw new InvalidDataException($"the peer serves link \"{peer.LinkId}\", this node link \"{linkId}\": check both configurations");
        long session = Math.Max(mine.LastSession, peer.LastSession) + 1;
        counter.Save(session);
        var theirs = peer.Blocks.ToHashSet();
        var onlyMine = mine.Blocks.Where(b => !theirs.Contains(b)).ToList();
        long discarded = onlyMine.Count > 0 ? ledger.DiscardBlocks(onlyMine) : 0;
        if (onlyMine.Count > 0)
            logger.LogWarning("Session {Session}: dropped {Blocks} block(s) ({Keys} keys) the peer does not hold (one end stopped between the two ends storing them)",
                session, onlyMine.Count, discarded);
        logger.LogInformation("Session {Session} of link {Link} opened ({Blocks} blocks held by both ends)", session, linkId, mine.Blocks.Count - onlyMine.Count);
        return new Outcome(session, discarded, onlyMine.Count);
    }
}
