using System.Security.Cryptography;

namespace Qkd.Core.Keys;

/// <summary>
/// The text form of a secret key kept in a file by an operator (the KME's operator key, the node's audit key): exactly
/// two hex digits per byte and at most one line end, written and read through buffers the caller zeroises, so no string
/// of the key is ever made. The file itself (created new, owner-only) is the caller's I/O; <see cref="OwnerOnlyNewFile"/>
/// and <see cref="OpenToOthers"/> say how it must be created and what mode is refused.
/// </summary>
public static class SecretKeyText
{
    /// <summary>Mode bits that make a key file readable or writable by someone other than the service user.</summary>
    public const UnixFileMode OpenToOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>Options that create a key file that did not exist, readable and writable by its owner only.</summary>
    public static FileStreamOptions OwnerOnlyNewFile()
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        return options;
    }

    /// <summary>Bytes of the text of a key of <paramref name="keyLength"/> bytes: its hex digits and one line end.</summary>
    public static int LineLength(int keyLength) => 2 * keyLength + 1;

    /// <summary>A fresh key of <paramref name="keyLength"/> bytes from the OS CSPRNG, as lower-case hex and a line end, into <paramref name="line"/>.</summary>
    public static void WriteNewKeyLine(int keyLength, Span<byte> line)
    {
        if (line.Length != LineLength(keyLength)) throw new ArgumentException($"The line must be {LineLength(keyLength)} bytes.", nameof(line));
        Span<byte> key = stackalloc byte[keyLength];
        try
        {
            RandomNumberGenerator.Fill(key);
            for (int i = 0; i < keyLength; i++)
            {
                line[2 * i] = HexDigit(key[i] >> 4);
                line[2 * i + 1] = HexDigit(key[i] & 0xF);
            }
            line[^1] = (byte)'\n';
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>
    /// Decodes <paramref name="content"/>, exactly <c>2 × key.Length</c> hex digits with at most one line end (LF or CR LF),
    /// into <paramref name="key"/>. False, with <paramref name="key"/> zeroed, for anything else.
    /// </summary>
    public static bool TryReadKeyLine(ReadOnlySpan<byte> content, Span<byte> key)
    {
        var digits = content;
        if (digits.EndsWith("\r\n"u8)) digits = digits[..^2];
        else if (digits.EndsWith("\n"u8)) digits = digits[..^1];
        if (digits.Length != 2 * key.Length)
        {
            key.Clear();
            return false;
        }
        for (int i = 0; i < key.Length; i++)
        {
            int high = Nibble(digits[2 * i]), low = Nibble(digits[2 * i + 1]);
            if ((high | low) < 0)
            {
                CryptographicOperations.ZeroMemory(key);
                return false;
            }
            key[i] = (byte)(high << 4 | low);
        }
        return true;
    }

    private static int Nibble(byte digit) => digit switch
    {
        >= (byte)'0' and <= (byte)'9' => digit - '0',
        >= (byte)'a' and <= (byte)'f' => digit - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => digit - 'A' + 10,
        _ => -1,
    };

    private static byte HexDigit(int nibble) => (byte)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);
}
