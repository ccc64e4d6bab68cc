using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Qkd.Kme.Pool;

/// <summary>
/// Key IDs both ends derive alike: a UUID (version 8, RFC 9562) from the link ID, the block ID and the key's index in the
/// block, via SHA-256, so the two KMEs name every key the same without exchanging IDs, and IDs of different links
/// never collide.
/// </summary>
public static class KeyIds
{
    public static Guid For(string linkId, long blockId, int index)
    {
        ArgumentException.ThrowIfNullOrEmpty(linkId);
        Span<byte> input = stackalloc byte[256];
        int n = System.Text.Encoding.UTF8.GetBytes(linkId, input[..200]);
        BinaryPrimitives.WriteInt64BigEndian(input[n..], blockId);
        BinaryPrimitives.WriteInt32BigEndian(input[(n + 8)..], index);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(input[..(n + 12)], hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80); // version 8
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80); // RFC 9562 variant
        return new Guid(hash[..16], bigEndian: true);
    }

    /// <summary>Which KME hands key <paramref name="index"/> of a block out by enc_keys: even to Alice, odd to Bob.</summary>
    public static KmeRole MasterOf(int index) => (index & 1) == 0 ? KmeRole.Alice : KmeRole.Bob;
}
