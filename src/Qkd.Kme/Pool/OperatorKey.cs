using System.Security.Cryptography;

namespace Qkd.Kme.Pool;

/// <summary>
/// The 32-byte secret the operator provides to encrypt key material at rest, read from a file (32 raw bytes or 64 hex
/// digits, readable by the service user only) or an environment variable (64 hex digits). The bytes are zeroised on
/// <see cref="Dispose"/>; the pool keeps its own copy, so the caller may dispose this once the pool is open.
/// </summary>
public sealed class OperatorKey : IDisposable
{
    public const int Length = 32;

    /// <summary>The environment variable read when the configuration names none.</summary>
    public const string DefaultEnvironmentVariable = "QKD_OPERATOR_KEY";

    private const UnixFileMode GroupOrOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

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
            if ((mode & GroupOrOthers) != 0)
                throw new OperatorKeyException(
                    $"Operator key {source} has mode {Convert.ToString((int)mode, 8).PadLeft(4, '0')}: it is readable or writable by " +
                    $"group or others. Restrict it to the service user (chmod 600 {path}).");
        }

        byte[] raw = File.ReadAllBytes(path);
        try
        {
            if (raw.Length == Length)
                return new OperatorKey((byte[])raw.Clone(), source);
            var text = System.Text.Encoding.ASCII.GetString(raw).AsSpan().Trim();
            if (text.Length == 2 * Length && IsHex(text))
                return new OperatorKey(Convert.FromHexString(text), source);
            throw new OperatorKeyException(
                $"Operator key {source} holds {raw.Length} bytes: expected {Length} raw bytes or {2 * Length} hex digits.");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(raw);
        }
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
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        byte[] key = RandomNumberGenerator.GetBytes(Length);
        try
        {
            using var stream = new FileStream(path, options);
            stream.Write(System.Text.Encoding.ASCII.GetBytes(Convert.ToHexString(key) + "\n"));
            stream.Flush(flushToDisk: true);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        CryptographicOperations.ZeroMemory(_bytes);
    }

    private static bool IsHex(ReadOnlySpan<char> text)
    {
        foreach (char c in text)
            if (!char.IsAsciiHexDigit(c)) return false;
        return true;
    }
}
