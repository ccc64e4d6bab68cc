using Qkd.Node.Devices;
using Qkd.Node.Link;
using System.Security.Cryptography;
using Qkd.Core.Bits;
using Qkd.Core.Keys;

namespace Qkd.Lab.Run;

/// <summary>
/// The key files of a one-process emulated run (<c>qkd run --keys-dir</c>): one file per distilled block, readable only by
/// the user (mode 0600), so the two ends' keys can be compared. Keys are written as raw bytes, never logged, and the
/// in-memory copy is zeroised after writing. A node hands its keys to the durable key pool of Qkd.Kme instead.
/// </summary>
public sealed class FileKeySink : IKeySink
{
    private readonly List<long> _blocks = [];

    public FileKeySink(string directory)
    {
        Directory = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(Directory);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public string Directory { get; }

    public IReadOnlyList<long> BlockIds
    {
        get { lock (_blocks) return _blocks.ToArray(); }
    }

    public long StoredBits { get; private set; }

    public string PathOf(long blockId) => Path.Combine(Directory, $"block-{blockId:D8}.key");

    public void Accept(long blockId, PackedBits key)
    {
        string path = PathOf(blockId);
        byte[] bytes = key.ToBytes();
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var stream = new FileStream(path, options))
            {
                // First 8 bytes: the key length in bits, so a key that is not a whole number of bytes round-trips.
                Span<byte> header = stackalloc byte[8];
                System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(header, key.Length);
                stream.Write(header);
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
        }
        catch (IOException e) when (File.Exists(path))
        {
            throw new InvalidOperationException($"Key files {Directory}: block {blockId} is already stored; a key is never written twice.", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
        lock (_blocks) _blocks.Add(blockId);
        StoredBits += key.Length;
    }

    /// <summary>Reads a stored key (caller zeroises it when done).</summary>
    public PackedBits Read(long blockId)
    {
        string path = PathOf(blockId);
        if (!File.Exists(path))
            throw new KeyNotFoundException($"Key files {Directory} has no key for block {blockId}.");
        byte[] raw = File.ReadAllBytes(path);
        try
        {
            long bits = System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(raw);
            return PackedBits.FromBytes(raw.AsSpan(8), bits);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(raw);
        }
    }

    /// <summary>
    /// True when both stores hold the same block IDs with identical keys. Used by the emulated link, where both
    /// ends live in one process, to prove the distillation produced the same key at both ends.
    /// </summary>
    public static bool HoldIdenticalKeys(FileKeySink a, FileKeySink b)
    {
        var ids = a.BlockIds;
        if (!ids.SequenceEqual(b.BlockIds)) return false;
        foreach (long id in ids)
        {
            var ka = a.Read(id);
            var kb = b.Read(id);
            bool same = ka.ContentEquals(kb);
            ka.Clear();
            kb.Clear();
            if (!same) return false;
        }
        return true;
    }
}
