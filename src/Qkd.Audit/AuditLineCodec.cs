using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Qkd.Audit;

/// <summary>
/// Seals and opens one line. The MAC is HMAC-SHA256 under the audit key over the exact bytes of the JSON object without
/// its mac field; the line is those bytes with <c>,"mac":"&lt;64 hex&gt;"}</c> in place of the closing brace. Because
/// the MAC covers bytes, not a re-serialisation, no canonical form is needed: any changed byte fails it.
/// </summary>
internal static class AuditLineCodec
{
    private static readonly byte[] MacPrefix = ",\"mac\":\""u8.ToArray();
    private const int MacHexLength = 2 * HMACSHA256.HashSizeInBytes;

    /// <summary>Sequence 0's "previous hash".</summary>
    public static readonly string Genesis = new('0', 2 * SHA256.HashSizeInBytes);

    public static byte[] Seal<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, AuditKey key)
    {
        byte[] body = JsonSerializer.SerializeToUtf8Bytes(value, type);
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        key.Mac(body, mac);
        var line = new byte[body.Length - 1 + MacPrefix.Length + MacHexLength + 2];
        body.AsSpan(0, body.Length - 1).CopyTo(line);
        int at = body.Length - 1;
        MacPrefix.CopyTo(line, at);
        at += MacPrefix.Length;
        Encoding.ASCII.GetBytes(Convert.ToHexStringLower(mac), line.AsSpan(at));
        at += MacHexLength;
        line[at++] = (byte)'"';
        line[at] = (byte)'}';
        return line;
    }

    /// <summary>The line's body (the JSON without its MAC), or null when the line does not end in a MAC field.</summary>
    /// <param name="macMatches">Whether the MAC is the key's over the body.</param>
    public static byte[]? Open(ReadOnlySpan<byte> line, AuditKey key, out bool macMatches)
    {
        macMatches = false;
        int suffix = MacPrefix.Length + MacHexLength + 2;
        if (line.Length < suffix + 2 || line[^1] != (byte)'}' || line[^2] != (byte)'"' || !line[^suffix..].StartsWith(MacPrefix))
            return null;
        var hex = line[^(MacHexLength + 2)..^2];
        // Lower-case hex only: the MAC field is the one part of a line no MAC covers, so it has exactly one spelling.
        foreach (byte digit in hex)
            if (digit is not ((>= (byte)'0' and <= (byte)'9') or (>= (byte)'a' and <= (byte)'f'))) return null;
        Span<byte> claimed = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Convert.FromHexString(Encoding.ASCII.GetString(hex), claimed, out _, out _);
        var body = new byte[line.Length - suffix + 1];
        line[..^suffix].CopyTo(body);
        body[^1] = (byte)'}';
        Span<byte> actual = stackalloc byte[HMACSHA256.HashSizeInBytes];
        key.Mac(body, actual);
        macMatches = CryptographicOperations.FixedTimeEquals(actual, claimed);
        return body;
    }

    /// <summary>The hash that the next line's "prev" carries: SHA-256 of this line's bytes (without its line end), hex.</summary>
    public static string Hash(ReadOnlySpan<byte> line) => Convert.ToHexStringLower(SHA256.HashData(line));
}
