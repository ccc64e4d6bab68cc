using System.Buffers.Binary;
using System.Text;

namespace Qkd.Network.Routing;

/// <summary>
/// What a node tells the network about its links: for each neighbour whether the link is up, the key this node can
/// still send with on it and the key rate. <see cref="Sequence"/> grows with every advertisement the node makes (it is
/// kept across restarts) so a newer one replaces an older one everywhere; <see cref="AgeSeconds"/> grows as it is kept
/// and passed on, and an advertisement older than the database's maximum age no longer counts.
/// </summary>
public sealed record LinkStateAdvertisement(string Origin, long Sequence, int AgeSeconds, IReadOnlyList<AdvertisedLink> Links)
{
    public const byte Version = 1;

    /// <summary>u8 version · str origin · i64 sequence · i32 age · u16 n · n × (str neighbour · u8 up · i64 available bytes · f64 rate).</summary>
    public byte[] Encode()
    {
        var buffer = new List<byte>(64 + Links.Count * 32) { Version };
        Str(buffer, Origin);
        Span<byte> eight = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(eight, Sequence); buffer.AddRange(eight.ToArray());
        BinaryPrimitives.WriteInt32LittleEndian(eight, AgeSeconds); buffer.AddRange(eight[..4].ToArray());
        BinaryPrimitives.WriteUInt16LittleEndian(eight, checked((ushort)Links.Count)); buffer.AddRange(eight[..2].ToArray());
        foreach (var l in Links)
        {
            Str(buffer, l.Neighbour);
            buffer.Add(l.Up ? (byte)1 : (byte)0);
            BinaryPrimitives.WriteInt64LittleEndian(eight, l.AvailableBytes); buffer.AddRange(eight.ToArray());
            BinaryPrimitives.WriteDoubleLittleEndian(eight, l.KeyRateBytesPerSecond); buffer.AddRange(eight.ToArray());
        }
        return buffer.ToArray();
    }

    public static LinkStateAdvertisement Decode(ReadOnlySpan<byte> b)
    {
        int at = 0;
        ReadOnlySpan<byte> Take(ReadOnlySpan<byte> s, int n, ref int at)
        {
            if (n < 0 || s.Length - at < n) throw new FormatException("link-state advertisement ends early");
            var r = s.Slice(at, n);
            at += n;
            return r;
        }
        string ReadStr(ReadOnlySpan<byte> s, ref int at) => Encoding.UTF8.GetString(Take(s, Take(s, 1, ref at)[0], ref at));
        if (Take(b, 1, ref at)[0] != Version) throw new FormatException("link-state advertisement of another version");
        string origin = ReadStr(b, ref at);
        long seq = BinaryPrimitives.ReadInt64LittleEndian(Take(b, 8, ref at));
        int age = BinaryPrimitives.ReadInt32LittleEndian(Take(b, 4, ref at));
        int n = BinaryPrimitives.ReadUInt16LittleEndian(Take(b, 2, ref at));
        var links = new AdvertisedLink[n];
        for (int i = 0; i < n; i++)
        {
            string neighbour = ReadStr(b, ref at);
            bool up = Take(b, 1, ref at)[0] == 1;
            long available = BinaryPrimitives.ReadInt64LittleEndian(Take(b, 8, ref at));
            double rate = BinaryPrimitives.ReadDoubleLittleEndian(Take(b, 8, ref at));
            if (available < 0 || !double.IsFinite(rate) || rate < 0) throw new FormatException("link-state advertisement with a negative or non-finite figure");
            links[i] = new AdvertisedLink(neighbour, up, available, rate);
        }
        if (at != b.Length || age < 0) throw new FormatException("link-state advertisement with trailing bytes or a negative age");
        return new LinkStateAdvertisement(origin, seq, age, links);
    }

    private static void Str(List<byte> buffer, string s)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(s);
        buffer.Add(checked((byte)bytes.Length));
        buffer.AddRange(bytes);
    }
}

/// <summary>One link as its node advertises it.</summary>
public sealed record AdvertisedLink(string Neighbour, bool Up, long AvailableBytes, double KeyRateBytesPerSecond);
