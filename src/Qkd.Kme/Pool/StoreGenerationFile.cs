using System.Buffers.Binary;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace Qkd.Kme.Pool;

/// <summary>
/// A small file beside the key pool (the database path + ".generation") holding a delivery generation the store is known
/// to have reached durably: the database counts its delivery transactions (meta 'generation', in the same transaction as
/// the deletions), and the pool records that count here when it is idle, when it closes, and under load every few
/// transactions (<see cref="SqliteKeyPoolOptions.GenerationRecordEvery"/>). A database put back from an older copy has a
/// lower count than the file and is refused at open: keys it still holds may have been delivered since the copy was
/// made.
/// </summary>
/// <remarks>
/// <para>The file is written in place in two alternating 64-byte slots, each with the store's ID (its salt) and a
/// checksum (SHA-256, first 8 bytes), and read as the valid slot with the higher count: a write torn by a crash leaves the other slot, and a file
/// from another store is recognised as such.</para>
/// <para>A database newer than the file is normal (deliveries since the last record, then a crash). Restoring the file together with the database is not detected here; keep
/// the file out of such backups, or on another volume (<see cref="SqliteKeyPoolOptions.GenerationFilePath"/>).</para>
/// </remarks>
internal sealed class StoreGenerationFile : IDisposable
{
    private const int SlotBytes = 64;
    private static ReadOnlySpan<byte> Magic => "QKDGEN01"u8;

    private readonly FileStream _stream;
    private readonly SafeFileHandle _file;
    private readonly byte[] _storeId;
    private readonly byte[] _slot = new byte[SlotBytes];
    private int _nextSlot;

    private StoreGenerationFile(string path, FileStream stream, byte[] storeId, long generation, int nextSlot)
    {
        Path = path;
        _stream = stream;
        _file = stream.SafeFileHandle;
        _storeId = storeId;
        Generation = generation;
        _nextSlot = nextSlot;
    }

    public string Path { get; }

    /// <summary>The generation last written durably.</summary>
    public long Generation { get; private set; }

    /// <summary>True when the file did not exist and was created by <see cref="Open"/>.</summary>
    public bool Created { get; private init; }

    /// <summary>Opens (or creates, mode 0600) the file of the store with ID <paramref name="storeId"/> (16 bytes).</summary>
    /// <exception cref="InvalidDataException">The file belongs to another store or neither slot is readable.</exception>
    public static StoreGenerationFile Open(string path, ReadOnlySpan<byte> storeId)
    {
        bool exists = File.Exists(path);
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.ReadWrite };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        var stream = new FileStream(path, options);
        var handle = stream.SafeFileHandle;
        try
        {
            long best = -1;
            int bestSlot = 1;
            if (exists)
            {
                var buffer = new byte[2 * SlotBytes];
                int read = RandomAccess.Read(handle, buffer, 0);
                bool foreign = false;
                for (int s = 0; s < 2; s++)
                {
                    if (read < (s + 1) * SlotBytes) continue;
                    var slot = buffer.AsSpan(s * SlotBytes, SlotBytes);
                    if (!slot[..8].SequenceEqual(Magic) || !Checksum(slot[..^8]).SequenceEqual(slot[^8..])) continue;
                    if (!slot.Slice(8, 16).SequenceEqual(storeId))
                    {
                        foreign = true;
                        continue;
                    }
                    long g = BinaryPrimitives.ReadInt64LittleEndian(slot.Slice(24, 8));
                    if (g > best)
                    {
                        best = g;
                        bestSlot = s;
                    }
                }
                if (best < 0)
                    throw new InvalidDataException(foreign
                        ? $"Key pool generation file {path} belongs to another key store (a file from another node or an older store was put here)."
                        : $"Key pool generation file {path} is damaged or empty (neither of its records is readable).");
            }
            var file = new StoreGenerationFile(path, stream, storeId.ToArray(), Math.Max(best, 0), 1 - bestSlot) { Created = !exists };
            if (!exists) file.Write(0);
            return file;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Records <paramref name="generation"/> durably (written and flushed to disk) when it is higher than the last.</summary>
    public void Advance(long generation)
    {
        if (generation > Generation) Write(generation);
    }

    private void Write(long generation)
    {
        var slot = _slot.AsSpan();
        slot.Clear();
        Magic.CopyTo(slot);
        _storeId.CopyTo(slot[8..]);
        BinaryPrimitives.WriteInt64LittleEndian(slot.Slice(24, 8), generation);
        Checksum(slot[..^8]).CopyTo(slot[^8..]);
        RandomAccess.Write(_file, slot, _nextSlot * SlotBytes);
        RandomAccess.FlushToDisk(_file);
        _nextSlot = 1 - _nextSlot;
        Generation = generation;
    }

    private static byte[] Checksum(ReadOnlySpan<byte> data) => SHA256.HashData(data)[..8];

    public void Dispose() => _stream.Dispose();
}
