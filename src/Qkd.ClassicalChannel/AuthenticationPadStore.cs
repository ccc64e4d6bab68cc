using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace Qkd.ClassicalChannel;

/// <summary>
/// The key material of the classical channel's Wegman-Carter MAC at one end of the link.
/// <para>
/// Source: a pre-shared secret file the operator installs out of band, the same file at both ends, mode 0600. Its first
/// 16 bytes are the hash key k (reused for every message; see <see cref="Gf128PolynomialHash"/>); the rest starts the
/// pad stream. The node appends to the pad stream with <see cref="Replenish(long, ReadOnlySpan{byte})"/> from the link's
/// own distilled key (both ends append the same bits in the same block order, so their streams stay equal). The stream
/// is cut into 16-byte chunks; chunk 2i is Alice's i-th tag pad and chunk 2i+1 Bob's, so the two directions never share
/// a bit.
/// </para>
/// <para>
/// Never twice: the sender's cursor is persisted before its bits are used (write-ahead): a batch of
/// <see cref="ReserveBatch"/> indices is reserved durably (fsync), then used from memory; after a restart the cursor
/// resumes past the whole reserved batch, so a crash wastes at most one batch and never reuses a bit. The state lives
/// in <c>pad-state</c> (two checksummed slots written alternately, so a torn write leaves the previous state) and
/// replenished material in <c>replenished.pad</c> (appended and fsynced before the state records its length), both
/// 0600 in the state directory. The state directory belongs to the pre-shared file: a new pre-shared file needs a new
/// state directory, and an old pre-shared file must never be used with an empty one (that would restart the cursor).
/// </para>
/// </summary>
public sealed class AuthenticationPadStore : IDisposable
{
    public const int HashKeyBytes = 16;
    public const int ChunkBytes = Gf128PolynomialHash.TagBytes;
    public const int ReserveBatch = 256;

    private const string StateFileName = "pad-state";
    private const string ReplenishedFileName = "replenished.pad";
    private const int SlotBytes = 64;
    private const uint Magic = 0x50414B51; // "QKAP"

    private readonly object _gate = new();
    private readonly byte[] _hashKey = new byte[HashKeyBytes];
    private readonly SafeFileHandle _preShared;
    private readonly long _preSharedPadBytes;
    private readonly SafeFileHandle _replenished;
    private readonly SafeFileHandle _state;
    private long _replenishedBytes;
    private long _lastReplenishBlock;
    private long _replenishCount;
    private long _generation;
    private long _nextSend;      // next index of this end's pad to use
    private long _reservedLimit; // indices below this are durably marked as used
    private long _tagsThisProcess;
    private TaskCompletionSource _materialGrew = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _disposed;

    private AuthenticationPadStore(ChannelEnd localEnd, string stateDirectory, SafeFileHandle preShared, long preSharedLength,
        SafeFileHandle replenished, SafeFileHandle state)
    {
        LocalEnd = localEnd;
        StateDirectory = stateDirectory;
        _preShared = preShared;
        _preSharedPadBytes = preSharedLength - HashKeyBytes;
        _replenished = replenished;
        _state = state;
    }

    public ChannelEnd LocalEnd { get; }
    public string StateDirectory { get; }

    /// <summary>
    /// Opens the pad of <paramref name="localEnd"/>: reads the hash key from the pre-shared file (which must exist, be
    /// readable only by its owner, and hold the key plus at least one pad chunk per direction) and the durable cursor
    /// from <paramref name="stateDirectory"/> (created 0700 if missing).
    /// </summary>
    public static AuthenticationPadStore Open(string preSharedSecretPath, string stateDirectory, ChannelEnd localEnd)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(preSharedSecretPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(stateDirectory);
        string path = Path.GetFullPath(preSharedSecretPath);
        if (!File.Exists(path))
            throw new FileNotFoundException($"Pre-shared authentication secret {path} does not exist: install the same file at both ends out of band.", path);
        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(path);
            var forbidden = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
                            UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
            if ((mode & forbidden) != 0)
                throw new UnauthorizedAccessException(
                    $"Pre-shared authentication secret {path} is accessible to group or others (mode {Convert.ToString((int)mode, 8)}); it must be mode 0600 (chmod 600 {path}).");
        }
        long length = new FileInfo(path).Length;
        if (length < HashKeyBytes + 2 * ChunkBytes)
            throw new InvalidDataException(
                $"Pre-shared authentication secret {path} has {length} bytes; it needs at least {HashKeyBytes + 2 * ChunkBytes} (a {HashKeyBytes}-byte hash key and one {ChunkBytes}-byte pad chunk per direction), realistically megabytes.");

        string directory = Path.GetFullPath(stateDirectory);
        bool created = !Directory.Exists(directory);
        Directory.CreateDirectory(directory);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        string statePath = Path.Combine(directory, StateFileName);
        string replenishedPath = Path.Combine(directory, ReplenishedFileName);
        bool fresh = !File.Exists(statePath);
        if (fresh && File.Exists(replenishedPath) && new FileInfo(replenishedPath).Length > 0)
            throw new InvalidDataException($"Authentication pad state {statePath} is missing but {replenishedPath} holds material: the state directory is damaged; refusing to restart the pad cursor (that could reuse pad bits).");

        SafeFileHandle? preShared = null, replenished = null, state = null;
        try
        {
            preShared = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            replenished = OpenPrivate(replenishedPath);
            state = OpenPrivate(statePath);
            if (fresh || created) SyncDirectory(directory);
            var store = new AuthenticationPadStore(localEnd, directory, preShared, length, replenished, state);
            RandomAccess.Read(preShared, store._hashKey, 0);
            store.LoadState(fresh, statePath);
            return store;
        }
        catch
        {
            preShared?.Dispose();
            replenished?.Dispose();
            state?.Dispose();
            throw;
        }
    }

    /// <summary>The hash key k (a copy the caller must zeroise).</summary>
    internal byte[] CopyHashKey() => (byte[])_hashKey.Clone();

    /// <summary>Pad chunks available to <paramref name="end"/> in the current material.</summary>
    public long ChunksAvailable(ChannelEnd end)
    {
        lock (_gate) return ChunksFor(end);
    }

    /// <summary>Consumption of the pad for the report and metrics.</summary>
    public AuthenticationPadAccount Account
    {
        get
        {
            lock (_gate)
            {
                return new AuthenticationPadAccount(_preSharedPadBytes / ChunkBytes * Gf128PolynomialHash.TagBits,
                    _replenishedBytes * 8, _nextSend * Gf128PolynomialHash.TagBits, _tagsThisProcess * Gf128PolynomialHash.TagBits,
                    Math.Max(0, ChunksFor(LocalEnd) - _nextSend) * Gf128PolynomialHash.TagBits, _replenishCount);
            }
        }
    }

    /// <summary>The next index of this end's pad, durably marked used before it is returned.</summary>
    /// <exception cref="AuthenticationPadExhaustedException">No unused chunk left.</exception>
    internal long TakeSendIndex()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            long available = ChunksFor(LocalEnd);
            if (_nextSend >= available)
                throw new AuthenticationPadExhaustedException(
                    $"Authentication pad exhausted at {LocalEnd}'s end: all {available} of its {Gf128PolynomialHash.TagBits}-bit tag pads are used " +
                    $"({_preSharedPadBytes * 8} pre-shared and {_replenishedBytes * 8} replenished bits in both directions). The channel stops rather than reuse pad bits.");
            if (_nextSend >= _reservedLimit)
            {
                _reservedLimit = Math.Min(_nextSend + ReserveBatch, available);
                WriteState(); // write-ahead: durable before any of the reserved bits leave this process
            }
            _tagsThisProcess++;
            return _nextSend++;
        }
    }

    /// <summary>Reads the pad of <paramref name="sender"/>'s tag number <paramref name="index"/>; false when beyond the material.</summary>
    internal bool TryReadPad(ChannelEnd sender, long index, Span<byte> pad)
    {
        if (pad.Length != ChunkBytes) throw new ArgumentException("A pad is 16 bytes.", nameof(pad));
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (index < 0 || index >= ChunksFor(sender)) return false;
            long offset = (2 * index + (int)sender) * ChunkBytes;
            // A chunk may straddle the pre-shared file and the replenished material.
            int fromPreShared = (int)Math.Clamp(_preSharedPadBytes - offset, 0, ChunkBytes);
            if (fromPreShared > 0)
                ReadExactly(_preShared, pad[..fromPreShared], HashKeyBytes + offset);
            if (fromPreShared < ChunkBytes)
                ReadExactly(_replenished, pad[fromPreShared..], offset + fromPreShared - _preSharedPadBytes);
            return true;
        }
    }

    /// <summary>Completes when the material grows (a replenishment) or the timeout passes.</summary>
    internal Task MaterialGrewAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        Task grew;
        lock (_gate) grew = _materialGrew.Task;
        return grew.WaitAsync(timeout, cancellationToken).ContinueWith(_ => { }, CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>
    /// Appends distilled key to the pad stream, once per block: a block at or below the last replenished one is
    /// ignored (a node restarted mid-block may call again), so both ends append exactly the same bits in block order.
    /// The caller must take these bits out of the key it delivers, and both ends must use the same length per block.
    /// </summary>
    /// <returns>False when the block had already been applied.</returns>
    public bool Replenish(long blockId, ReadOnlySpan<byte> key)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(blockId);
        lock (_gate)
        {
            if (blockId <= _lastReplenishBlock) return false;
            Append(key);
            _lastReplenishBlock = blockId;
            WriteState();
            SignalGrowth();
            return true;
        }
    }

    /// <summary>Appends distilled key to the pad stream without a block id (the caller guarantees each call happens once at both ends).</summary>
    public void Replenish(ReadOnlySpan<byte> key)
    {
        lock (_gate)
        {
            Append(key);
            WriteState();
            SignalGrowth();
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            CryptographicOperations.ZeroMemory(_hashKey);
            _preShared.Dispose();
            _replenished.Dispose();
            _state.Dispose();
        }
    }

    private long ChunksFor(ChannelEnd end)
    {
        long chunks = (_preSharedPadBytes + _replenishedBytes) / ChunkBytes;
        return (chunks - (int)end + 1) / 2;
    }

    private void Append(ReadOnlySpan<byte> key)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (key.IsEmpty) throw new ArgumentException("Replenishing with an empty key adds nothing; pass the block's first bits.", nameof(key));
        RandomAccess.Write(_replenished, key, _replenishedBytes);
        RandomAccess.FlushToDisk(_replenished);
        _replenishedBytes += key.Length;
        _replenishCount++;
    }

    private void SignalGrowth()
    {
        var old = _materialGrew;
        _materialGrew = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        old.TrySetResult();
    }

    private void LoadState(bool fresh, string statePath)
    {
        if (fresh)
        {
            _generation = 0;
            WriteState();
            WriteState(); // both slots valid from the start
            return;
        }
        Span<byte> slots = stackalloc byte[2 * SlotBytes];
        slots.Clear();
        RandomAccess.Read(_state, slots, 0);
        State? best = null;
        for (int s = 0; s < 2; s++)
        {
            if (TryParse(slots.Slice(s * SlotBytes, SlotBytes), out var st) && (best is null || st.Generation > best.Value.Generation))
                best = st;
        }
        if (best is not State state)
            throw new InvalidDataException($"Authentication pad state {statePath} is unreadable (both slots damaged); refusing to guess the cursor.");
        if (state.End != LocalEnd)
            throw new InvalidDataException($"Authentication pad state {statePath} belongs to {state.End}'s end, not {LocalEnd}'s: each end needs its own state directory.");
        long onDisk = RandomAccess.GetLength(_replenished);
        if (onDisk < state.ReplenishedBytes)
            throw new InvalidDataException($"Replenished pad material {Path.Combine(StateDirectory, ReplenishedFileName)} has {onDisk} bytes but the state records {state.ReplenishedBytes}: the material is damaged.");
        if (onDisk > state.ReplenishedBytes)
            RandomAccess.SetLength(_replenished, state.ReplenishedBytes); // a replenishment interrupted before its state write: it will be applied again
        _generation = state.Generation;
        _replenishedBytes = state.ReplenishedBytes;
        _lastReplenishBlock = state.LastReplenishBlock;
        _replenishCount = state.ReplenishCount;
        _nextSend = _reservedLimit = state.SendReserved; // skip the whole last reservation: some of it may have been used
    }

    private void WriteState()
    {
        _generation++;
        Span<byte> slot = stackalloc byte[SlotBytes];
        slot.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(slot, Magic);
        slot[4] = 1; // format version
        slot[5] = (byte)LocalEnd;
        BinaryPrimitives.WriteInt64LittleEndian(slot[8..], _generation);
        BinaryPrimitives.WriteInt64LittleEndian(slot[16..], _reservedLimit);
        BinaryPrimitives.WriteInt64LittleEndian(slot[24..], _replenishedBytes);
        BinaryPrimitives.WriteInt64LittleEndian(slot[32..], _lastReplenishBlock);
        BinaryPrimitives.WriteInt64LittleEndian(slot[40..], _replenishCount);
        SHA256.HashData(slot[..48])[..16].CopyTo(slot[48..]);
        RandomAccess.Write(_state, slot, (_generation & 1) * SlotBytes);
        RandomAccess.FlushToDisk(_state);
    }

    private readonly record struct State(ChannelEnd End, long Generation, long SendReserved, long ReplenishedBytes, long LastReplenishBlock, long ReplenishCount);

    private static bool TryParse(ReadOnlySpan<byte> slot, out State state)
    {
        state = default;
        if (BinaryPrimitives.ReadUInt32LittleEndian(slot) != Magic || slot[4] != 1 || slot[5] > 1) return false;
        if (!SHA256.HashData(slot[..48]).AsSpan(0, 16).SequenceEqual(slot[48..64])) return false;
        state = new State((ChannelEnd)slot[5], BinaryPrimitives.ReadInt64LittleEndian(slot[8..]), BinaryPrimitives.ReadInt64LittleEndian(slot[16..]),
            BinaryPrimitives.ReadInt64LittleEndian(slot[24..]), BinaryPrimitives.ReadInt64LittleEndian(slot[32..]), BinaryPrimitives.ReadInt64LittleEndian(slot[40..]));
        return true;
    }

    private static SafeFileHandle OpenPrivate(string path)
    {
        if (!File.Exists(path))
        {
            // Created 0600 from the start: never a moment where another user could read it.
            var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
                create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            new FileStream(path, create).Dispose();
        }
        // FileShare.None: a second process on the same state directory fails here instead of sharing the cursor.
        return File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
    }

    private static void ReadExactly(SafeFileHandle file, Span<byte> buffer, long offset)
    {
        while (!buffer.IsEmpty)
        {
            int n = RandomAccess.Read(file, buffer, offset);
            if (n <= 0) throw new InvalidDataException("Authentication pad material ended early (a file shrank underneath the store).");
            buffer = buffer[n..];
            offset += n;
        }
    }

    /// <summary>fsync of the directory, so a newly created state file survives a power cut (otherwise the cursor could restart at 0).</summary>
    private static void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows()) return;
        int fd = open(directory, 0);
        if (fd < 0) return;
        try { fsync(fd); }
        finally { close(fd); }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int fsync(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);
}
