using System.Security.Cryptography;

namespace Qkd.Audit;

/// <summary>
/// The node's audit key: 32 bytes from the OS CSPRNG, kept in a file beside the node's other secrets (64 hex digits and
/// a line end, mode 0600, like the operator key), that authenticates every audit line with HMAC-SHA256. Whoever holds it
/// can verify the log and could also write a forged one: keep it as private as the pre-shared secret. Zeroised on
/// <see cref="Dispose"/>.
/// </summary>
public sealed class AuditKey : IDisposable
{
    public const int Length = 32;

    private const UnixFileMode GroupOrOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    private readonly byte[] _bytes;
    private bool _disposed;

    private AuditKey(byte[] bytes, string source)
    {
        _bytes = bytes;
        Source = source;
    }

    /// <summary>Where the key came from, for messages (never the key itself).</summary>
    public string Source { get; }

    /// <summary>A fresh key from the OS CSPRNG (tests; a node's key lives in a file: <see cref="WriteNewKeyFile"/>).</summary>
    public static AuditKey Generate() => new(RandomNumberGenerator.GetBytes(Length), "generated");

    public static AuditKey FromBytes(ReadOnlySpan<byte> bytes, string source = "bytes")
    {
        if (bytes.Length != Length) throw new AuditLogException($"Audit key {source} must be {Length} bytes; it has {bytes.Length}.");
        return new AuditKey(bytes.ToArray(), source);
    }

    /// <summary>Reads a key file: exactly 64 hex digits with at most one line end; not readable or writable by group or others.</summary>
    /// <exception cref="AuditLogException">Missing, readable by others, or not a key; the message names the file.</exception>
    public static AuditKey FromFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new AuditLogException($"Audit key file {full} does not exist.");
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(full) & GroupOrOthers) != 0)
            throw new AuditLogException($"Audit key file {full} is readable or writable by group or others: restrict it to the service user (chmod 600 {full}).");
        byte[] raw = File.ReadAllBytes(full);
        try
        {
            var digits = raw.AsSpan();
            if (digits.EndsWith("\r\n"u8)) digits = digits[..^2];
            else if (digits.EndsWith("\n"u8)) digits = digits[..^1];
            if (digits.Length != 2 * Length)
                throw new AuditLogException($"Audit key file {full} holds {raw.Length} bytes: expected {2 * Length} hex digits and at most one line end.");
            var key = new byte[Length];
            for (int i = 0; i < Length; i++)
            {
                int high = Nibble(digits[2 * i]), low = Nibble(digits[2 * i + 1]);
                if (high < 0 || low < 0)
                {
                    CryptographicOperations.ZeroMemory(key);
                    throw new AuditLogException($"Audit key file {full} holds a character that is not a hex digit.");
                }
                key[i] = (byte)(high << 4 | low);
            }
            return new AuditKey(key, $"file {full}");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(raw);
        }
    }

    /// <summary>Writes a fresh key from the OS CSPRNG to <paramref name="path"/> (created new, mode 0600, flushed to disk).</summary>
    /// <exception cref="IOException">The file exists already (a key is never overwritten: the log it signs would stop verifying).</exception>
    public static void WriteNewKeyFile(string path)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        byte[] key = RandomNumberGenerator.GetBytes(Length);
        byte[] line = new byte[2 * Length + 1];
        try
        {
            // Hex encoded into a buffer that is zeroised: a string of the key would stay on the heap.
            for (int i = 0; i < Length; i++)
            {
                line[2 * i] = HexDigit(key[i] >> 4);
                line[2 * i + 1] = HexDigit(key[i] & 0xF);
            }
            line[^1] = (byte)'\n';
            using var stream = new FileStream(path, options);
            stream.Write(line);
            stream.Flush(flushToDisk: true);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
            CryptographicOperations.ZeroMemory(line);
        }
    }

    internal void Mac(ReadOnlySpan<byte> data, Span<byte> mac)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        HMACSHA256.HashData(_bytes, data, mac);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        CryptographicOperations.ZeroMemory(_bytes);
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
