using System.Security.Cryptography;
using Qkd.Core.Keys;

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
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(full) & SecretKeyText.OpenToOthers) != 0)
            throw new AuditLogException($"Audit key file {full} is readable or writable by group or others: restrict it to the service user (chmod 600 {full}).");
        byte[] raw = File.ReadAllBytes(full);
        var key = new byte[Length];
        try
        {
            if (!SecretKeyText.TryReadKeyLine(raw, key))
                throw new AuditLogException($"Audit key file {full} holds {raw.Length} bytes that are not {2 * Length} hex digits with at most one line end.");
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


}
