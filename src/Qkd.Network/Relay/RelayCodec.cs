using System.Buffers.Binary;
using System.Text;

namespace Qkd.Network.Relay;

/// <summary>
/// The wire format of <see cref="RelayMessage"/> (integers little-endian, strings u8 length + UTF-8, GUIDs 16 bytes):
/// <code>
/// u8 version (1) · u8 kind · relay ID · str origin · str destination · str addressee · u8 hops left
/// Forward: str master SAE · u8 n · n × str slave SAE · u16 key size (bytes) · u16 k · k × key ID ·
///          u8 p · p × str node · u8 path index · k × key size bytes of payload
/// Abort:   u8 reason
/// u8 m · m × link key ID · 16-byte tag (over every byte before it)
/// </code>
/// Decoding refuses anything else: unknown version or kind, lengths beyond the buffer, bad UTF-8, a path index outside
/// the path, bytes left over. Authentication is <see cref="HopAuthenticator"/>'s.
/// </summary>
public static class RelayCodec
{
    public const byte Version = 1;
    public const int TagBytes = 16;
    public const int MaxKeysPerRelay = 1024;
    public const int MaxKeySizeBytes = 1024;
    private static readonly UTF8Encoding Utf8 = new(false, true);

    public static byte[] Encode(RelayMessage m)
    {
        var buffer = new byte[EncodedLength(m)];
        var w = new Writer(buffer);
        w.U8(Version);
        w.U8((byte)m.Kind);
        w.Guid(m.RelayId);
        w.Str(m.Origin);
        w.Str(m.Destination);
        w.Str(m.To);
        w.U8(m.HopsLeft);
        if (m.Kind == RelayMessageKind.Forward)
        {
            w.Str(m.MasterSae);
            w.U8(checked((byte)m.SlaveSaes.Count));
            foreach (var s in m.SlaveSaes) w.Str(s);
            w.U16(checked((ushort)m.KeySizeBytes));
            w.U16(checked((ushort)m.KeyIds.Count));
            foreach (var id in m.KeyIds) w.Guid(id);
            w.U8(checked((byte)m.Path.Count));
            foreach (var n in m.Path) w.Str(n);
            w.U8(checked((byte)m.PathIndex));
            if (m.Payload.Length != m.KeyIds.Count * m.KeySizeBytes) throw new ArgumentException("The payload is not key count × key size.", nameof(m));
            w.Bytes(m.Payload);
        }
        else if (m.Kind == RelayMessageKind.Abort) w.U8((byte)m.Reason);
        w.U8(checked((byte)m.LinkKeyIds.Count));
        foreach (var id in m.LinkKeyIds) w.Guid(id);
        if (m.Tag.Length != TagBytes) throw new ArgumentException("The tag is 16 bytes.", nameof(m));
        w.Bytes(m.Tag);
        return buffer;
    }

    public static int EncodedLength(RelayMessage m)
    {
        int n = 2 + 16 + StrLength(m.Origin) + StrLength(m.Destination) + StrLength(m.To) + 1;
        if (m.Kind == RelayMessageKind.Forward)
        {
            n += StrLength(m.MasterSae) + 1 + m.SlaveSaes.Sum(StrLength) + 2 + 2 + 16 * m.KeyIds.Count + 1 + m.Path.Sum(StrLength) + 1 + m.Payload.Length;
        }
        else if (m.Kind == RelayMessageKind.Abort) n += 1;
        return n + 1 + 16 * m.LinkKeyIds.Count + TagBytes;
    }

    public static RelayMessage Decode(ReadOnlySpan<byte> bytes)
    {
        var r = new Reader(bytes);
        byte version = r.U8("version");
        if (version != Version) throw new RelayMessageFormatException($"relay message version {version}, expected {Version}");
        byte kind = r.U8("kind");
        if (kind is < 1 or > 4) throw new RelayMessageFormatException($"unknown relay message kind {kind}");
        var relayId = r.Guid("relay ID");
        string origin = r.Str("origin"), destination = r.Str("destination"), to = r.Str("addressee");
        if (to != origin && to != destination) throw new RelayMessageFormatException("addressed to neither the origin nor the destination");
        byte hops = r.U8("hops left");
        string master = "";
        string[] slaves = [];
        int keySize = 0, pathIndex = 0;
        Guid[] keyIds = [];
        string[] path = [];
        byte[] payload = [];
        var reason = AbortReason.None;
        if (kind == (byte)RelayMessageKind.Forward)
        {
            master = r.Str("master SAE");
            slaves = new string[r.U8("slave count")];
            for (int i = 0; i < slaves.Length; i++) slaves[i] = r.Str("slave SAE");
            keySize = r.U16("key size");
            if (keySize is 0 or > MaxKeySizeBytes) throw new RelayMessageFormatException($"key size {keySize} bytes outside 1..{MaxKeySizeBytes}");
            int count = r.U16("key count");
            if (count is 0 or > MaxKeysPerRelay) throw new RelayMessageFormatException($"key count {count} outside 1..{MaxKeysPerRelay}");
            keyIds = new Guid[count];
            for (int i = 0; i < count; i++) keyIds[i] = r.Guid("key ID");
            path = new string[r.U8("path length")];
            for (int i = 0; i < path.Length; i++) path[i] = r.Str("path node");
            pathIndex = r.U8("path index");
            if (pathIndex >= path.Length) throw new RelayMessageFormatException($"path index {pathIndex} outside a path of {path.Length}");
            payload = r.Bytes(count * keySize, "payload").ToArray();
        }
        else if (kind == (byte)RelayMessageKind.Abort)
        {
            byte b = r.U8("reason");
            if (b is 0 or > (byte)AbortReason.OtherLegFailed) throw new RelayMessageFormatException($"unknown abort reason {b}");
            reason = (AbortReason)b;
        }
        var linkKeyIds = new Guid[r.U8("link key count")];
        for (int i = 0; i < linkKeyIds.Length; i++) linkKeyIds[i] = r.Guid("link key ID");
        byte[] tag = r.Bytes(TagBytes, "tag").ToArray();
        if (r.Remaining != 0) throw new RelayMessageFormatException($"{r.Remaining} bytes after the tag");
        return new RelayMessage
        {
            Kind = (RelayMessageKind)kind, RelayId = relayId, Origin = origin, Destination = destination, To = to, HopsLeft = hops,
            MasterSae = master, SlaveSaes = slaves, KeySizeBytes = keySize, KeyIds = keyIds, Path = path, PathIndex = pathIndex,
            Payload = payload, Reason = reason, LinkKeyIds = linkKeyIds, Tag = tag,
        };
    }

    private static int StrLength(string s) => 1 + Utf8.GetByteCount(s);

    private ref struct Writer(Span<byte> buffer)
    {
        private readonly Span<byte> _b = buffer;
        private int _at;

        public void U8(byte v) => _b[_at++] = v;

        public void U16(ushort v)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(_b[_at..], v);
            _at += 2;
        }

        public void Guid(Guid g)
        {
            g.TryWriteBytes(_b[_at..]);
            _at += 16;
        }

        public void Str(string s)
        {
            int n = Utf8.GetByteCount(s);
            if (n > 255) throw new ArgumentException($"'{s[..Math.Min(s.Length, 40)]}…' is longer than 255 bytes");
            U8((byte)n);
            _at += Utf8.GetBytes(s, _b[_at..]);
        }

        public void Bytes(ReadOnlySpan<byte> s)
        {
            s.CopyTo(_b[_at..]);
            _at += s.Length;
        }
    }

    private ref struct Reader(ReadOnlySpan<byte> bytes)
    {
        private readonly ReadOnlySpan<byte> _b = bytes;
        private int _at;

        public readonly int Remaining => _b.Length - _at;

        public ReadOnlySpan<byte> Bytes(int n, string field)
        {
            if (n < 0 || Remaining < n) throw new RelayMessageFormatException($"relay message ends inside the {field} ({Remaining} of {n} bytes)");
            var s = _b.Slice(_at, n);
            _at += n;
            return s;
        }

        public byte U8(string field) => Bytes(1, field)[0];

        public ushort U16(string field) => BinaryPrimitives.ReadUInt16LittleEndian(Bytes(2, field));

        public Guid Guid(string field) => new(Bytes(16, field));

        public string Str(string field)
        {
            int n = U8(field + " length");
            var s = Bytes(n, field);
            try { return Utf8.GetString(s); }
            catch (ArgumentException) { throw new RelayMessageFormatException($"the {field} is not UTF-8"); }
        }
    }
}
