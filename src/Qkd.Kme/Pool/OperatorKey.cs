using System.Security.Cryptography;
using Qkd.Core.Keys;

namespace Qkd.Kme.Pool;

/// <summary>
/// The 32-byte secret the operator provides to encrypt key material at rest, read from a file (exactly 32 raw bytes,
/// or exactly 64 hex digits with at most one line ending after them; readable by the service user only) or an
/// environment variable (64 hex digits). The bytes are zeroised on <see cref="Dispose"/>; the pool keeps its own copy,
/// so the caller may dispose this once the pool is open.
/// </summary>
/// <remarks>
/// <para>The two file forms never overlap: a 32-byte file that is all text (32 hex digits are only 16 bytes, a
/// passphrase is not a key) is refused rather than taken as raw bytes; 32 random bytes are all printable with
/// probability about 10^-14.</para>
/// <para>Hex is decoded straight from the file's bytes into the key, and every buffer that held the file is zeroised;
/// no string of the key is made. An environment variable's value is a string the runtime keeps for the process's
/// life (and the operating system in the process's environment): prefer the file.</para>
/// </remarks>
public sealed class OperatorKey : IDisposable
{
    public const int Length = 32;

    /// <summary>The environment variable read when the configuration names none.</summary>
    public const string DefaultEnvironmentVariable = "QKD_OPERATOR_KEY";

    private readonly byte[] _bytes;
    private bool _disposed;

    private OperatorKey(byte[] bytes, string source)
    {
        _bytes = bytes;
        Source = source;
    }

    /// <summary>Where the key came from, for messages (never the key itself).</summary>
    public string Source { get; }

    internal ReadOnlySpan<byte> Bytes
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _bytes;
        }
    }

    /// <summary>
    /// Reads the key from <paramref name="path"/>. The file must not be readable or writable by group or others: a key
    /// file anyone on the machine can read protects nothing.
    /// </summary>
    public static OperatorKey FromFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string source = $"file {Path.GetFullPath(path)}";
        if (!File.Exists(path))
            throw new OperatorKeyException($"Operator key {source} does not exist.");
        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(path);
            if ((mode & SecretKeyText.OpenToOthers) != 0)
                throw new OperatorKeyException(
                    $"Operator key {source} has mode {Convert.ToString((int)mode, 8).PadLeft(4, '0')}: it is readable or writable by " +
                    $"group or others. Restrict it to the service user (chmod 600 {path}).");
        }

        byte[] raw = File.ReadAllBytes(path);
        try
        {
            return Parse(raw, source);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(raw);
        }
    }

    /// <summary>The contents of a key file: exactly 32 raw bytes, or exactly 64 hex digits and at most one line ending.</summary>
    internal static OperatorKey Parse(ReadOnlySpan<byte> content, string source)
    {
        if (content.Length == Length)
        {
            if (IsText(content))
                throw new OperatorKeyException(
                    $"Operator key {source} holds {Length} characters of text{(IsHexDigits(content) ? $" ({Length} hex digits are {Length / 2} bytes)" : "")}: " +
                    $"an operator key file holds exactly {Length} raw bytes or exactly {2 * Length} hex digits. Write a new one with `qkd keys init` or `openssl rand -hex {Length}`.");
            return new OperatorKey(content.ToArray(), source);
        }
        var key = new byte[Length];
        if (SecretKeyText.TryReadKeyLine(content, key)) return new OperatorKey(key, source);
        throw new OperatorKeyException(
            $"Operator key {source} holds {content.Length} bytes{(IsText(content) ? " of text" : "")}: expected exactly {Length} raw bytes, " +
            $"or exactly {2 * Length} hex digits (one line ending after them allowed, nothing else).");
    }

    /// <summary>Reads the key as 64 hex digits from the environment variable <paramref name="variable"/>.</summary>
    public static OperatorKey FromEnvironment(string variable = DefaultEnvironmentVariable)
    {
        ArgumentException.ThrowIfNullOrEmpty(variable);
        string? value = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrWhiteSpace(value))
            throw new OperatorKeyException($"Operator key environment variable {variable} is not set.");
        return FromHex(value, $"environment variable {variable}");
    }

    public static OperatorKey FromHex(string hex, string source = "hex string")
    {
        ArgumentNullException.ThrowIfNull(hex);
        var text = hex.AsSpan().Trim();
        if (text.Length != 2 * Length || !IsHex(text))
            throw new OperatorKeyException($"Operator key {source} must be {2 * Length} hex digits ({Length} bytes); it has {text.Length} characters or a non-hex digit.");
        return new OperatorKey(Convert.FromHexString(text), source);
    }

    public static OperatorKey FromBytes(ReadOnlySpan<byte> bytes, string source = "bytes")
    {
        if (bytes.Length != Length)
            throw new OperatorKeyException($"Operator key {source} must be {Length} bytes; it has {bytes.Length}.");
        return new OperatorKey(bytes.ToArray(), source);
    }

    /// <summary>A fresh random key (for `qkd keys init` and tests).</summary>
    public static OperatorKey Generate() => new(RandomNumberGenerator.GetBytes(Length), "generated");

    /// <summary>Writes a fresh random key as hex to <paramref name="path"/>, created with mode 0600.</summary>
    public static void WriteNewKeyFile(string path)
    {
        byte[] line = new byte[SecretKeyText.LineLength(Length)];
        try
        {
            SecretKeyText.WriteNewKeyLine(Length, line);
            using var stream = new FileStream(path, SecretKeyText.OwnerOnlyNewFile());
            stream.Write(line);
            stream.Flush(flushToDisk: true);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(line);
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        CryptographicOperations.ZeroMemory(_bytes);
    }

    private static bool IsText(ReadOnlySpan<byte> content)
    {
        foreach (byte b in content)
            if (b is < 0x20 or > 0x7E && b is not ((byte)'\n' or (byte)'\r' or (byte)'\t')) return false;
        return true;
    }

    private static bool IsHexDigits(ReadOnlySpan<byte> content)
    {
        foreach (byte b in content)
            if (!char.IsAsciiHexDigit((char)b)) return false;
        return true;
    }



    private static bool IsHex(ReadOnlySpan<char> text)
    {
        foreach (char c in text)
            if (!char.IsAsciiHexDigit(c)) return false;
        return true;
    }
}
