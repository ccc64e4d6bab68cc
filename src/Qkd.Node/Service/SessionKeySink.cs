using Qkd.Core.Bits;
using Qkd.Distillation;
using Qkd.Core.Keys;

namespace Qkd.Node.Service;

/// <summary>
/// Numbers a session's blocks for the key pool: the distiller counts blocks from 0 in every session, the pool needs
/// IDs unique for the link's lifetime (key IDs derive from them), so block b of session s is stored as s * 2^32 + b.
/// Both ends agree on s in the session handshake, so both name every key alike.
/// </summary>
public sealed class SessionKeySink(IKeySink pool, long session) : IKeySink
{
    public long Session { get; } = session;

    public static long GlobalBlockId(long session, long blockId) => (session << 32) | (blockId & 0xFFFF_FFFF);

    public static long SessionOf(long globalBlockId) => globalBlockId >> 32;

    public void Accept(long blockId, PackedBits key) => pool.Accept(GlobalBlockId(Session, blockId), key);
}
