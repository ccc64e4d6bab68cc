namespace Qkd.Kme.PeerLink;

/// <summary>
/// The blocks a key pool holds, by global block ID, and a way to drop some: what the session handshake needs to make
/// two pools agree after one end was killed between storing a block and the other end storing it.
/// </summary>
public interface IBlockLedger
{
    IReadOnlyList<long> StoredBlockIds();

    /// <summary>Deletes (and zeroises) every undelivered key of these blocks; returns the keys removed.</summary>
    long DiscardBlocks(IReadOnlyCollection<long> blockIds);
}
