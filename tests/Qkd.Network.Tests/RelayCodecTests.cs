using CsCheck;
using Qkd.Network.Links;
using Qkd.Network.Relay;

namespace Qkd.Network.Tests;

public sealed class RelayCodecTests
{
    private static readonly Gen<string> Id = Gen.String[Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789-._"], 1, 64];

    private static readonly Gen<RelayMessage> Message =
        from kind in Gen.Int[1, 4].Select(i => (RelayMessageKind)i)
        from relayId in Gen.Guid
        from origin in Id
        from destination in Id
        from toOrigin in Gen.Bool
        from hops in Gen.Byte
        from master in Id
        from slaves in Id.Array[1, 5]
        from keySize in Gen.Int[1, 64]
        from keyIds in Gen.Guid.Array[1, 8]
        from path in Id.Array[2, 8]
        from pathIndex in Gen.Int[0, 7]
        from reason in Gen.Int[1, 7]
        from linkKeyIds in Gen.Guid.Array[0, 6]
        from tag in Gen.Byte.Array[16]
        from payloadSeed in Gen.Int
        select kind == RelayMessageKind.Forward
            ? new RelayMessage
            {
                Kind = kind, RelayId = relayId, Origin = origin, Destination = destination, To = destination, HopsLeft = hops,
                MasterSae = master, SlaveSaes = slaves, KeySizeBytes = keySize, KeyIds = keyIds, Path = path,
                PathIndex = pathIndex % path.Length, Payload = Payload(keyIds.Length * keySize, payloadSeed), LinkKeyIds = linkKeyIds, Tag = tag,
            }
            : new RelayMessage
            {
                Kind = kind, RelayId = relayId, Origin = origin, Destination = destination, To = toOrigin ? origin : destination, HopsLeft = hops,
                Reason = kind == RelayMessageKind.Abort ? (AbortReason)reason : AbortReason.None, LinkKeyIds = linkKeyIds, Tag = tag,
            };

    [Fact]
    public void Decoding_an_encoded_message_gives_it_back() =>
        Message.Sample(m => Assert.Equal(m, RelayCodec.Decode(RelayCodec.Encode(m))));

    [Fact]
    public void Any_change_to_a_sealed_message_is_rejected() =>
        Gen.Select(Message, Gen.Int[0, int.MaxValue], Gen.Byte[1, 255], Gen.Int[0, 2]).Sample((m, position, flip, mode) =>
        {
            // Sealed as a hop does: pad over the payload, Wegman-Carter tag with fresh link key.
            var plain = m.Payload;
            int need = HopAuthenticator.LinkKeyBytes(plain.Length);
            var key = new LinkKey([Guid.NewGuid()], System.Security.Cryptography.RandomNumberGenerator.GetBytes(need));
            byte[] bytes = HopAuthenticator.Seal(m, plain, key);
            byte[] bad = mode switch
            {
                0 => Flip(bytes, position % bytes.Length, flip),
                1 => bytes[..(position % bytes.Length)],
                _ => [.. bytes, flip],
            };
            RelayMessage decoded;
            try { decoded = RelayCodec.Decode(bad); }
            catch (RelayMessageFormatException) { return; }
            Assert.Null(HopAuthenticator.Open(bad, decoded, key.Material.Length == HopAuthenticator.LinkKeyBytes(decoded.Payload.Length)
                ? key : new LinkKey(key.KeyIds, new byte[HopAuthenticator.LinkKeyBytes(decoded.Payload.Length)])));
        });

    [Fact]
    public void A_sealed_message_opens_with_its_link_key_to_the_plain_payload() =>
        Message.Where(m => m.Kind == RelayMessageKind.Forward).Sample(m =>
        {
            var key = new LinkKey([Guid.NewGuid()], System.Security.Cryptography.RandomNumberGenerator.GetBytes(HopAuthenticator.LinkKeyBytes(m.Payload.Length)));
            byte[] bytes = HopAuthenticator.Seal(m, m.Payload, key);
            var decoded = RelayCodec.Decode(bytes);
            Assert.Equal(m.Payload, HopAuthenticator.Open(bytes, decoded, key));
            Assert.False(decoded.Payload.AsSpan().SequenceEqual(m.Payload) && m.Payload.Length > 8); // never in clear
        });

    [Theory]
    [InlineData(new byte[] { }, "version")]
    [InlineData(new byte[] { 2, 1 }, "version 2")]
    [InlineData(new byte[] { 1, 9 }, "kind 9")]
    [InlineData(new byte[] { 1, 1, 0, 0 }, "relay ID")]
    public void Bad_bytes_are_refused_naming_the_problem(byte[] bytes, string expected) =>
        Assert.Contains(expected, Assert.Throws<RelayMessageFormatException>(() => RelayCodec.Decode(bytes)).Message);

    private static byte[] Payload(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes); // test data, not key material
        return bytes;
    }

    private static byte[] Flip(byte[] bytes, int at, byte mask)
    {
        var copy = (byte[])bytes.Clone();
        copy[at] ^= mask;
        return copy;
    }
}
