using System.Security.Cryptography;
using Qkd.ClassicalChannel;
using Qkd.Network.Links;

namespace Qkd.Network.Relay;

/// <summary>
/// Seals and opens relay messages on one hop with that hop's link key: one-time pad for the keys and a Wegman-Carter
/// tag (the classical channel's GF(2^128) polynomial hash, <see cref="Gf128PolynomialHash"/>) over the whole message.
/// </summary>
/// <remarks>
/// Why Wegman-Carter and not HMAC: the keys travel under a one-time pad, which is information-theoretically secure;
/// HMAC would make the hop's integrity rest on a computational assumption again, the weakest link of the chain. With a
/// fresh 16-byte hash key and a fresh 16-byte pad per message (both link key, used once) a forgery succeeds with
/// probability at most (blocks + 1) / 2^128 whatever the attacker computes. Fresh hash keys per message cost 16 bytes
/// more than a hash key kept per link, but need no state shared between messages (a restarted node or a rerouted
/// relay has nothing to resynchronise). Link key per message: 32 bytes + the payload's length.
/// </remarks>
public static class HopAuthenticator
{
    public const int AuthenticationKeyBytes = 32;

    /// <summary>Link key a message with this payload length consumes on one hop.</summary>
    public static int LinkKeyBytes(int payloadBytes) => AuthenticationKeyBytes + payloadBytes;

    /// <summary>
    /// The message as sent on one hop: <paramref name="plainPayload"/> (the keys, Forward only) XOR the pad, the link
    /// key's IDs, and the tag. <paramref name="linkKey"/> must hold <see cref="LinkKeyBytes"/> of the payload.
    /// </summary>
    public static byte[] Seal(RelayMessage message, ReadOnlySpan<byte> plainPayload, LinkKey linkKey)
    {
        var material = linkKey.Material;
        if (material.Length != LinkKeyBytes(plainPayload.Length)) throw new ArgumentException("Link key of the wrong length.", nameof(linkKey));
        var cipher = new byte[plainPayload.Length];
        for (int i = 0; i < cipher.Length; i++) cipher[i] = (byte)(plainPayload[i] ^ material[AuthenticationKeyBytes + i]);
        var sealedMessage = message with { Payload = cipher, LinkKeyIds = linkKey.KeyIds, Tag = new byte[RelayCodec.TagBytes] };
        byte[] bytes = RelayCodec.Encode(sealedMessage);
        var body = bytes.AsSpan(0, bytes.Length - RelayCodec.TagBytes);
        Gf128PolynomialHash.ComputeTag(material.AsSpan(0, 16), body, material.AsSpan(16, 16), bytes.AsSpan(bytes.Length - RelayCodec.TagBytes));
        return bytes;
    }

    /// <summary>
    /// Checks the tag of <paramref name="bytes"/> (a decoded <paramref name="message"/>) with the link key it names,
    /// and returns the plain payload (the caller zeroises it), or null when the tag does not verify.
    /// </summary>
    public static byte[]? Open(ReadOnlySpan<byte> bytes, RelayMessage message, LinkKey linkKey)
    {
        var material = linkKey.Material;
        if (material.Length != LinkKeyBytes(message.Payload.Length)) return null;
        Span<byte> expected = stackalloc byte[RelayCodec.TagBytes];
        Gf128PolynomialHash.ComputeTag(material.AsSpan(0, 16), bytes[..^RelayCodec.TagBytes], material.AsSpan(16, 16), expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, bytes[^RelayCodec.TagBytes..])) return null;
        var plain = new byte[message.Payload.Length];
        for (int i = 0; i < plain.Length; i++) plain[i] = (byte)(message.Payload[i] ^ material[AuthenticationKeyBytes + i]);
        return plain;
    }
}
