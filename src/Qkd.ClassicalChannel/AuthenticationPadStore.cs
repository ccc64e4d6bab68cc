using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace Qkd.ClassicalChannel;

/// <summary>
/// The key material of the classical channels' Wegman-Carter MAC at one end of the link, and the durable record that
/// no pad bit is ever used twice.
/// <para>
/// Source: a pre-shared secret file the operator installs out of band, the same file at both ends, mode 0600. Its first
/// 16 bytes are the initial hash key k0; the rest is pad. The last chunks of it are the <em>notice</em> reserve (one lane
/// per end) that authenticates refusals a peer with a lost state can still check; the rest starts the pad stream, cut
/// into groups of 8 chunks of 16 bytes: <c>[session A, session B, session A, session B, session A, session B, KME A,
/// KME B]</c>. So each channel (<see cref="ChannelKind"/>) and each direction has its own lane, and no two lanes ever
/// share a bit (the session channel gets three chunks of a group per direction, the KME link one).
/// </para>
/// <para>
/// Replenishment is agreed: the node adds a block's first bits as <em>pending</em> (<see cref="AddPending"/>, durable);
/// they join the stream only when the handshake of a connection shows that both ends hold them (<see cref="PadPosition"/>),
/// in the same order at both ends. Each applied replenishment starts a new hash key epoch: its first 16 bytes are the
/// next hash key (a weak one is skipped, alike at both ends), the rest (whole groups) extends the stream. A sender uses
/// only the epoch and material the peer has confirmed it holds, so a receiver never waits for material.
/// </para>
/// <para>
/// Never twice: each sending lane's cursor is reserved durably in batches of <see cref="ReserveBatch"/> before its bits
/// are used (write-ahead); each receiving lane keeps the highest index accepted from the peer (durable, written every
/// <see cref="AcceptPersistBatch"/> indices and at every handshake). A frame at or below it is refused, and a peer
/// whose next index is at or below it (its state folder was deleted or restored) is refused and told; an end told so
/// by an authenticated notice, or that finds the peer has applied replenishments it no longer holds, is condemned:
/// it authenticates nothing more and refuses to open again (<see cref="AuthenticationPadStaleException"/>).
/// </para>
/// <para>
/// Files (0600, in a 0700 state directory that belongs to one pre-shared secret): <c>pad-state</c> (two checksummed
/// slots written alternately), <c>replenished.pad</c> (the stream beyond the pre-shared part), <c>replenishments</c>
/// (block, groups and hash key of each applied replenishment), <c>pending/</c> (one file per pending block).
/// </para>
/// </summary>
public sealed class AuthenticationPadStore : IDisposable
{
    public const int HashKeyBytes = 16;
    public const int ChunkBytes = Gf128PolynomialHash.TagBytes;
    public const int GroupChunks = 8;
    public const int GroupBytes = GroupChunks * ChunkBytes;
    public const int ReserveBatch = 256;
    public const int AcceptPersistBatch = 64;
    public const int MaxNoticeChunks = 1024;

    private const string StateFileName = "pad-state";
    private const string ReplenishedFileName = "replenished.pad";
    private const string RecordsFileName = "replenishments";
    private const string PendingDirectoryName = "pending";
    private const int SlotBytes = 128;
    private const int RecordBytes = 32;
    private const byte FormatVersion = 2;
    private const uint Magic = 0x50414B51; // "QKAP"

    private readonly object _gate = new();
    private readonly SafeFileHandle _preShared;
    private readonly long _preSharedPadBytes;
    private readonly long _noticeChunks;   // per end
    private readonly long _noticeOffset;   // in the pre-shared file
    private readonly long _preSharedGroups;
    private readonly SafeFileHandle _replenished;
    private readonly SafeFileHandle _records;
    private readonly SafeFileHandle _state;
    private readonly string _pendingDirectory;
    private readonly byte[] _fingerprint = new byte[16];
    private readonly byte[] _secretDigest = new byte[16];
    private readonly List<byte[]> _keys = [];               // epoch e's hash key; 0: k0
    private readonly List<long> _groupsAfter = [];          // stream groups once e replenishments are applied
    private readonly List<long> _appliedBlocks = [];
    private readonly HashSet<long> _appliedSet = [];
    private readonly SortedSet<long> _pending = [];
    private readonly long[] _sendNext = new long[2];
    private readonly long[] _sendReserved = new long[2];
    private readonly long[] _accepted = [-1, -1];
    private readonly long[] _acceptedPersisted = [-1, -1];
    private readonly TaskCompletionSource<string> _stale = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _noticeNext, _noticeReserved;
    private long _replenishedBytes;
    private long _peerConfirmed;
    private long _generation;
    private long _tagsThisProcess;
    private bool _everEstablished;
    private bool _condemned;
    private bool _disposed;

    private AuthenticationPadStore(ChannelEnd localEnd, string stateDirectory, SafeFileHandle preShared, long preSharedLength,
        SafeFileHandle replenished, SafeFileHandle records, SafeFileHandle state)
    {
        LocalEnd = localEnd;
        StateDirectory = stateDirectory;
        _preShared = preShared;
        _preSharedPadBytes = preSharedLength - HashKeyBytes;
        long chunks = _preSharedPadBytes / ChunkBytes;
        _noticeChunks = Math.Clamp(chunks / 64, 1, MaxNoticeChunks);
        _preSharedGroups = (_preSharedPadBytes - 2 * _noticeChunks * ChunkBytes) / GroupBytes;
        _noticeOffset = HashKeyBytes + _preSharedPadBytes - 2 * _noticeChunks * ChunkBytes;
        _replenished = replenished;
        _records = records;
        _state = state;
        _pendingDirectory = Path.Combine(stateDirectory, PendingDirectoryName);
    }

    public ChannelEnd LocalEnd { get; }
    public string StateDirectory { get; }

    /// <summary>The smallest pre-shared secret: the hash key, a notice chunk per end and one group of the stream.</summary>
    public const int MinimumSecretBytes = HashKeyBytes + 2 * ChunkBytes + GroupBytes;

    /// <summary>
    /// How many of <paramref name="available"/> bytes of a block a replenishment takes: a hash key and whole groups
    /// (0 when fewer than one group fit). Both ends take the same from the same block.
    /// </summary>
    public static int ReplenishmentBytes(int available) =>
        available < HashKeyBytes + GroupBytes ? 0 : HashKeyBytes + (available - HashKeyBytes) / GroupBytes * GroupBytes;

    /// <summary>
    /// Opens the pad of <paramref name="localEnd"/>: reads the pre-shared file (which must exist, be readable only by its
    /// owner and hold at least <see cref="MinimumSecretBytes"/>) and the durable state from <paramref name="stateDirectory"/>
    /// (created 0700 if missing).
    /// </summary>
    /// <exception cref="AuthenticationPadStaleException">This state was found older than the peer's before: it must not be used again.</exception>
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
        if (length < MinimumSecretBytes)
            throw new InvalidDataException(
                $"Pre-shared authentication secret {path} has {length} bytes; it needs at least {MinimumSecretBytes} (a {HashKeyBytes}-byte hash key, notice chunks and one {GroupBytes}-byte pad group), realistically megabytes.");

        string directory = Path.GetFullPath(stateDirectory);
        bool created = !Directory.Exists(directory);
        Directory.CreateDirectory(directory);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string pending = Path.Combine(directory, PendingDirectoryName);
        Directory.CreateDirectory(pending);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(pending, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        string statePath = Path.Combine(directory, StateFileName);
        string replenishedPath = Path.Combine(directory, ReplenishedFileName);
        string recordsPath = Path.Combine(directory, RecordsFileName);
        bool fresh = !File.Exists(statePath);
        if (fresh && ((File.Exists(replenishedPath) && new FileInfo(replenishedPath).Length > 0) || (File.Exists(recordsPath) && new FileInfo(recordsPath).Length > 0)))
            throw new InvalidDataException($"Authentication pad state {statePath} is missing but {directory} holds replenished material: the state directory is damaged; refusing to restart the pad cursors (that could reuse pad bits). Re-provision a fresh pre-shared secret at both ends.");

        SafeFileHandle? preShared = null, replenished = null, records = null, state = null;
        try
        {
            preShared = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            replenished = OpenPrivate(replenishedPath);
            records = OpenPrivate(recordsPath);
            state = OpenPrivate(statePath);
            if (fresh || created) SyncDirectory(directory);
            var store = new AuthenticationPadStore(localEnd, directory, preShared, length, replenished, records, state);
            store.ReadSecret(length);
            store.LoadState(fresh, statePath, path);
            return store;
        }
        catch
        {
            preShared?.Dispose();
            replenished?.Dispose();
            records?.Dispose();
            state?.Dispose();
            throw;
        }
    }

    /// <summary>Completes (with what was found) once this end's state turned out older than the peer's.</summary>
    public Task<string> Stale => _stale.Task;

    /// <summary>Replenishments applied so far (the current hash key epoch).</summary>
    public long AppliedReplenishments
    {
        get { lock (_gate) return _keys.Count - 1; }
    }

    /// <summary>Blocks added with <see cref="AddPending"/> and not yet applied.</summary>
    public IReadOnlyList<long> PendingBlocks
    {
        get { lock (_gate) return [.. _pending]; }
    }

    /// <summary>Block IDs of the applied replenishments, in the order they joined the stream.</summary>
    public IReadOnlyList<long> AppliedBlocks
    {
        get { lock (_gate) return [.. _appliedBlocks]; }
    }

    /// <summary>Chunks of <paramref name="end"/>'s lane on <paramref name="channel"/> in this end's whole material.</summary>
    public long ChunksAvailable(ChannelKind channel, ChannelEnd end)
    {
        lock (_gate) return LaneChunks(channel, _groupsAfter[^1]);
    }

    /// <summary>Consumption of the pad for the report and metrics.</summary>
    public AuthenticationPadAccount Account
    {
        get
        {
            lock (_gate)
            {
                long usable = _groupsAfter[(int)Math.Min(_keys.Count - 1, _peerConfirmed)];
                long remaining = Math.Max(0, LaneChunks(ChannelKind.Session, usable) - _sendNext[0]) + Math.Max(0, LaneChunks(ChannelKind.KmeLink, usable) - _sendNext[1]);
                return new AuthenticationPadAccount(_preSharedPadBytes / ChunkBytes * Gf128PolynomialHash.TagBits,
                    _replenishedBytes * 8, (_sendReserved[0] + _sendReserved[1]) * Gf128PolynomialHash.TagBits, _tagsThisProcess * Gf128PolynomialHash.TagBits,
                    remaining * Gf128PolynomialHash.TagBits, _keys.Count - 1, _pending.Count);
            }
        }
    }

    /// <summary>
    /// Keeps a block's replenishment (hash key and pad groups, <see cref="ReplenishmentBytes"/> of its key) as pending,
    /// durably; it joins the pad at both ends at a later handshake, once both hold it. The caller takes these bits out
    /// of the key it delivers. A block already pending or applied is ignored (a node restarted mid-block may add again).
    /// </summary>
    /// <returns>False when the block was already pending or applied.</returns>
    public bool AddPending(long blockId, ReadOnlySpan<byte> replenishment)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(blockId);
        if (replenishment.Length < HashKeyBytes + GroupBytes || (replenishment.Length - HashKeyBytes) % GroupBytes != 0)
            throw new ArgumentException($"A replenishment is a {HashKeyBytes}-byte hash key and whole {GroupBytes}-byte groups (see ReplenishmentBytes), not {replenishment.Length} bytes.", nameof(replenishment));
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_appliedSet.Contains(blockId) || _pending.Contains(blockId)) return false;
            string file = PendingPath(blockId), temporary = file + ".tmp";
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Options = FileOptions.WriteThrough };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(replenishment);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, file, overwrite: true);
            SyncDirectory(_pendingDirectory);
            _pending.Add(blockId);
            while (_pending.Count > PadPosition.MaxPending)
            {
                // Never applied at either end (it would have left pending), so dropping the oldest is safe at both.
                long oldest = _pending.Min;
                _pending.Remove(oldest);
                Erase(PendingPath(oldest));
            }
            return true;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            if (_accepted[0] != _acceptedPersisted[0] || _accepted[1] != _acceptedPersisted[1]) TryWriteState();
            _disposed = true;
            foreach (var key in _keys) CryptographicOperations.ZeroMemory(key);
            CryptographicOperations.ZeroMemory(_secretDigest);
            _preShared.Dispose();
            _replenished.Dispose();
            _records.Dispose();
            _state.Dispose();
        }
    }

    // ---- for the authenticator ----

    internal long SecretBytes => HashKeyBytes + _preSharedPadBytes;

    /// <summary>The next index of this end's lane on <paramref name="channel"/>, durably marked used before it is returned, and the key epoch to seal with.</summary>
    /// <exception cref="AuthenticationPadExhaustedException">No unused chunk left in the material the peer has confirmed.</exception>
    /// <exception cref="AuthenticationPadStaleException">This end's state was found older than the peer's.</exception>
    internal (long Index, long Epoch) TakeSendIndex(ChannelKind channel)
    {
        lock (_gate)
        {
            ThrowIfUnusable();
            int c = (int)channel;
            long epoch = Math.Min(_keys.Count - 1, _peerConfirmed);
            long available = LaneChunks(channel, _groupsAfter[(int)epoch]);
            if (_sendNext[c] >= available)
                throw new AuthenticationPadExhaustedException(
                    $"Authentication pad exhausted at {LocalEnd}'s end on the {Name(channel)}: all {available} of its {Gf128PolynomialHash.TagBits}-bit tag pads in the material both ends hold are used " +
                    $"({_preSharedPadBytes * 8} pre-shared and {_replenishedBytes * 8} replenished bits, {_pending.Count} replenishment(s) pending). The channel stops rather than reuse pad bits.");
            if (_sendNext[c] >= _sendReserved[c])
            {
                _sendReserved[c] = Math.Min(_sendNext[c] + ReserveBatch, available);
                WriteState(); // write-ahead: durable before any of the reserved bits leave this process
            }
            _tagsThisProcess++;
            return (_sendNext[c]++, epoch);
        }
    }

    /// <summary>The next chunk of this end's notice reserve (pre-shared, so a peer with a lost state can still check it).</summary>
    internal long TakeNoticeIndex()
    {
        lock (_gate)
        {
            ThrowIfUnusable();
            if (_noticeNext >= _noticeChunks)
                throw new AuthenticationPadExhaustedException($"The notice reserve of {LocalEnd}'s end is used up ({_noticeChunks} refusals sent): further refusals go unsent.");
            if (_noticeNext >= _noticeReserved)
            {
                _noticeReserved = Math.Min(_noticeNext + 16, _noticeChunks);
                WriteState();
            }
            return _noticeNext++;
        }
    }

    /// <summary>The pad of <paramref name="sender"/>'s chunk <paramref name="index"/> on <paramref name="channel"/> sealed under <paramref name="epoch"/>; false when this end does not hold it.</summary>
    internal bool TryReadPad(ChannelKind channel, ChannelEnd sender, long index, long epoch, Span<byte> pad)
    {
        if (pad.Length != ChunkBytes) throw new ArgumentException("A pad is 16 bytes.", nameof(pad));
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (epoch < 0 || epoch >= _keys.Count || index < 0 || index >= LaneChunks(channel, _groupsAfter[(int)epoch])) return false;
            long offset = StreamChunk(channel, sender, index) * ChunkBytes;
            long preShared = _preSharedGroups * GroupBytes;
            if (offset < preShared) ReadExactly(_preShared, pad, HashKeyBytes + offset);
            else ReadExactly(_replenished, pad, offset - preShared);
            return true;
        }
    }

    /// <summary>The pad of <paramref name="sender"/>'s notice chunk <paramref name="index"/>; false beyond the reserve.</summary>
    internal bool TryReadNoticePad(ChannelEnd sender, long index, Span<byte> pad)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (index < 0 || index >= _noticeChunks) return false;
            ReadExactly(_preShared, pad, _noticeOffset + (2 * index + (int)sender) * ChunkBytes);
            return true;
        }
    }

    /// <summary>The hash key of <paramref name="epoch"/> (0: the pre-shared k0); false for an epoch this end has not reached.</summary>
    internal bool TryCopyHashKey(long epoch, Span<byte> key)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (epoch < 0 || epoch >= _keys.Count) return false;
            _keys[(int)epoch].CopyTo(key);
            return true;
        }
    }

    /// <summary>
    /// H_k0 of the whole pre-shared file: covered (never sent) by the tag of every first-contact handshake frame, so a
    /// secret that differs anywhere, in a byte no tag has used yet, fails the first handshake.
    /// </summary>
    internal void CopySecretDigest(Span<byte> digest)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _secretDigest.CopyTo(digest);
        }
    }

    /// <summary>True once a handshake with the peer has completed (over this store's life, any channel).</summary>
    internal bool EverEstablished
    {
        get { lock (_gate) return _everEstablished; }
    }

    internal void MarkEstablished()
    {
        lock (_gate)
        {
            if (_disposed || _condemned) return;
            bool changed = !_everEstablished || _accepted[0] != _acceptedPersisted[0] || _accepted[1] != _acceptedPersisted[1];
            _everEstablished = true;
            if (changed) WriteState();
        }
    }

    /// <summary>The highest index of the peer's lane on <paramref name="channel"/> accepted so far (-1: none).</summary>
    internal long LastAccepted(ChannelKind channel)
    {
        lock (_gate) return _accepted[(int)channel];
    }

    /// <summary>Takes an authentic frame's index as the peer's lane's last accepted; false (nothing changed) if it is not above it.</summary>
    internal bool TryAccept(ChannelKind channel, long index)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            int c = (int)channel;
            if (index <= _accepted[c]) return false;
            _accepted[c] = index;
            if (index >= _acceptedPersisted[c] + AcceptPersistBatch && !_condemned) WriteState();
            return true;
        }
    }

    /// <summary>This end's position on <paramref name="channel"/>, for the peer.</summary>
    internal PadPosition Position(ChannelKind channel)
    {
        lock (_gate)
        {
            int window = Math.Min(PadPosition.MaxWindow, _appliedBlocks.Count);
            return new PadPosition(_everEstablished, _sendNext[(int)channel], _accepted[(int)channel], _appliedBlocks.Count,
                _appliedBlocks.GetRange(_appliedBlocks.Count - window, window).ToArray(), _pending.ToArray());
        }
    }

    /// <summary>Compares the peer's position with this end's state without changing anything (a refusal's position).</summary>
    internal PadAgreement Compare(ChannelKind channel, PadPosition peer)
    {
        lock (_gate) return CompareLocked(channel, peer);
    }

    /// <summary>
    /// Compares the peer's position with this end's state and, when they agree, applies the replenishments both ends
    /// hold: first those the peer already applied (in its order), then those pending at both (ascending block ID).
    /// The peer does the same with this end's position, so both streams grow alike.
    /// </summary>
    internal PadAgreement Reconcile(ChannelKind channel, PadPosition peer)
    {
        lock (_gate)
        {
            ThrowIfUnusable();
            var verdict = CompareLocked(channel, peer);
            if (verdict.Verdict != PadAgreementVerdict.Agreed) return verdict;
            int applied = 0;
            long peerStart = peer.AppliedCount - peer.AppliedWindow.Count;
            for (long q = _appliedBlocks.Count; q < peer.AppliedCount; q++, applied++)
                Apply(peer.AppliedWindow[(int)(q - peerStart)]);
            var theirs = new HashSet<long>(peer.Pending);
            foreach (long block in _pending.Where(theirs.Contains).ToArray())
            {
                Apply(block);
                applied++;
            }
            long confirmed = Math.Max(_peerConfirmed, peer.AppliedCount);
            if (applied > 0 || confirmed != _peerConfirmed)
            {
                _peerConfirmed = confirmed;
                WriteState();
            }
            return PadAgreement.Agreed(applied);
        }
    }

    /// <summary>
    /// This end's state is older than the peer's: from now on nothing is authenticated with it, and the store refuses to
    /// open again (persisted), so a restart cannot reuse pad either.
    /// </summary>
    internal void Condemn(string explanation)
    {
        string message;
        lock (_gate)
        {
            message = StaleMessage(explanation);
            if (!_condemned && !_disposed)
            {
                _condemned = true;
                TryWriteState();
            }
        }
        _stale.TrySetResult(message);
    }

    private string StaleMessage(string explanation) =>
        $"the authentication pad state in {StateDirectory} is older than the peer's ({explanation}): it was deleted or restored from a backup, and going on would reuse one-time-pad bits. " +
        "Re-provision a fresh pre-shared secret at both ends (new classicalChannel.preSharedSecretFile, empty state folders at both ends).";

    private PadAgreement CompareLocked(ChannelKind channel, PadPosition peer)
    {
        int c = (int)channel;
        string lane = Name(channel);
        if (peer.PeerLaneAccepted >= _sendNext[c])
            return new(PadAgreementVerdict.ThisEndOlder, $"the peer has accepted {lane} pad index {peer.PeerLaneAccepted} of this end, whose next is {_sendNext[c]}", 0);
        if (peer.NextSend <= _accepted[c])
            return new(PadAgreementVerdict.PeerOlder, $"this end has accepted {lane} pad index {_accepted[c]} of the peer, whose next is {peer.NextSend}", 0);
        long mine = _appliedBlocks.Count;
        long peerStart = peer.AppliedCount - peer.AppliedWindow.Count;
        for (long q = Math.Max(peerStart, 0); q < Math.Min(peer.AppliedCount, mine); q++)
        {
            if (_appliedBlocks[(int)q] != peer.AppliedWindow[(int)(q - peerStart)])
                return new(PadAgreementVerdict.ThisEndOlder, $"replenishment {q + 1} was block {_appliedBlocks[(int)q]} here and block {peer.AppliedWindow[(int)(q - peerStart)]} at the peer: the two pad states differ", 0);
        }
        if (mine < peer.AppliedCount)
        {
            if (mine < peerStart)
                return new(PadAgreementVerdict.ThisEndOlder, $"the peer applied {peer.AppliedCount} replenishments, this end {mine}", 0);
            for (long q = mine; q < peer.AppliedCount; q++)
            {
                long block = peer.AppliedWindow[(int)(q - peerStart)];
                if (!_pending.Contains(block))
                    return new(PadAgreementVerdict.ThisEndOlder, $"the peer applied the replenishment of block {block}, which this end does not hold ({mine} applied here, {peer.AppliedCount} there)", 0);
            }
        }
        else if (mine > peer.AppliedCount)
        {
            var theirs = new HashSet<long>(peer.Pending);
            for (long q = peer.AppliedCount; q < mine; q++)
            {
                if (!theirs.Contains(_appliedBlocks[(int)q]))
                    return new(PadAgreementVerdict.PeerOlder, $"this end applied the replenishment of block {_appliedBlocks[(int)q]}, which the peer does not hold ({mine} applied here, {peer.AppliedCount} there)", 0);
            }
        }
        return PadAgreement.Agreed(0);
    }

    // ---- internals ----

    private static string Name(ChannelKind channel) => channel == ChannelKind.Session ? "session channel" : "KME link";

    /// <summary>Stream chunk of a lane's chunk: groups of 8 are [SA SB SA SB SA SB KA KB].</summary>
    internal static long StreamChunk(ChannelKind channel, ChannelEnd end, long laneIndex) => channel == ChannelKind.Session
        ? GroupChunks * (laneIndex / 3) + 2 * (laneIndex % 3) + (int)end
        : GroupChunks * laneIndex + 6 + (int)end;

    internal static long LaneChunks(ChannelKind channel, long groups) => channel == ChannelKind.Session ? 3 * groups : groups;

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_condemned) throw new AuthenticationPadStaleException(_stale.Task.IsCompleted ? _stale.Task.Result : StaleMessage("found before"));
    }

    private void ReadSecret(long length)
    {
        var secret = GC.AllocateUninitializedArray<byte>((int)length, pinned: true);
        try
        {
            ReadExactly(_preShared, secret, 0);
            var k0 = secret.AsSpan(0, HashKeyBytes).ToArray();
            _keys.Add(k0);
            SHA256.HashData(secret).AsSpan(0, 16).CopyTo(_fingerprint);
            Gf128PolynomialHash.Hash(k0, secret, out ulong lo, out ulong hi);
            BinaryPrimitives.WriteUInt64LittleEndian(_secretDigest, lo);
            BinaryPrimitives.WriteUInt64LittleEndian(_secretDigest.AsSpan(8), hi);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
        _groupsAfter.Add(_preSharedGroups);
    }

    private string PendingPath(long blockId) => Path.Combine(_pendingDirectory, blockId.ToString("D20", CultureInfo.InvariantCulture) + ".pad");

    /// <summary>Moves a pending block into the stream (material, then its record, then the state), then erases its file.</summary>
    private void Apply(long blockId)
    {
        string file = PendingPath(blockId);
        byte[] material = File.ReadAllBytes(file);
        try
        {
            if (material.Length < HashKeyBytes + GroupBytes || (material.Length - HashKeyBytes) % GroupBytes != 0)
                throw new InvalidDataException($"Pending replenishment {file} has {material.Length} bytes, not a hash key and whole groups: the state directory is damaged.");
            long groups = (material.Length - HashKeyBytes) / GroupBytes;
            byte[] key = material.AsSpan(0, HashKeyBytes).ToArray();
            if (Gf128PolynomialHash.IsWeakKey(key))
            {
                // Both ends see the same bits and skip alike: the epoch keeps the previous key.
                CryptographicOperations.ZeroMemory(key);
                key = (byte[])_keys[^1].Clone();
            }
            RandomAccess.Write(_replenished, material.AsSpan(HashKeyBytes), _replenishedBytes);
            RandomAccess.FlushToDisk(_replenished);
            Span<byte> record = stackalloc byte[RecordBytes];
            BinaryPrimitives.WriteInt64LittleEndian(record, blockId);
            BinaryPrimitives.WriteInt64LittleEndian(record[8..], groups);
            key.CopyTo(record[16..]);
            RandomAccess.Write(_records, record, (long)_appliedBlocks.Count * RecordBytes);
            RandomAccess.FlushToDisk(_records);
            CryptographicOperations.ZeroMemory(record);
            _replenishedBytes += groups * GroupBytes;
            _keys.Add(key);
            _groupsAfter.Add(_groupsAfter[^1] + groups);
            _appliedBlocks.Add(blockId);
            _appliedSet.Add(blockId);
            _pending.Remove(blockId);
            WriteState();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(material);
        }
        Erase(file);
    }

    /// <summary>Overwrites a pending file with zeros before deleting it: its bits are key material.</summary>
    private static void Erase(string file)
    {
        try
        {
            long length = new FileInfo(file).Length;
            using (var stream = new FileStream(file, FileMode.Open, FileAccess.Write, FileShare.None))
            {
                stream.Write(new byte[length]);
                stream.Flush(flushToDisk: true);
            }
            File.Delete(file);
        }
        catch (FileNotFoundException) { }
    }

    private void LoadState(bool fresh, string statePath, string secretPath)
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
        bool earlierFormat = false;
        for (int s = 0; s < 2; s++)
        {
            var slot = slots.Slice(s * SlotBytes, SlotBytes);
            if (BinaryPrimitives.ReadUInt32LittleEndian(slot) == Magic && slot[4] == 1) earlierFormat = true;
            if (TryParse(slot, out var st) && (best is null || st.Generation > best.Value.Generation))
                best = st;
        }
        if (best is null && earlierFormat)
            throw new InvalidDataException($"Authentication pad state {statePath} is of an earlier release (format 1, one lane per direction shared by both channels): its pad indices cannot be carried over safely. Re-provision a fresh pre-shared secret at both ends with empty state folders.");
        if (best is not State state)
            throw new InvalidDataException($"Authentication pad state {statePath} is unreadable (both slots damaged); refusing to guess the cursors.");
        if (state.End != LocalEnd)
            throw new InvalidDataException($"Authentication pad state {statePath} belongs to {state.End}'s end, not {LocalEnd}'s: each end needs its own state directory.");
        if (!state.Fingerprint.AsSpan().SequenceEqual(_fingerprint))
            throw new InvalidDataException($"Authentication pad state {statePath} was made for another pre-shared secret than {secretPath}: a new secret needs new, empty state folders at both ends.");
        _generation = state.Generation;
        _condemned = state.Condemned;
        if (_condemned)
        {
            string message = StaleMessage("found so at an earlier run");
            _stale.TrySetResult(message);
            throw new AuthenticationPadStaleException(message);
        }
        long records = RandomAccess.GetLength(_records);
        if (records < state.Applied * RecordBytes)
            throw new InvalidDataException($"Replenishment records {Path.Combine(StateDirectory, RecordsFileName)} hold {records / RecordBytes} entries but the state records {state.Applied}: the state directory is damaged.");
        if (records > state.Applied * RecordBytes) RandomAccess.SetLength(_records, state.Applied * RecordBytes); // an apply interrupted before its state write
        long onDisk = RandomAccess.GetLength(_replenished);
        if (onDisk < state.ReplenishedBytes)
            throw new InvalidDataException($"Replenished pad material {Path.Combine(StateDirectory, ReplenishedFileName)} has {onDisk} bytes but the state records {state.ReplenishedBytes}: the material is damaged.");
        if (onDisk > state.ReplenishedBytes) RandomAccess.SetLength(_replenished, state.ReplenishedBytes);
        Span<byte> record = stackalloc byte[RecordBytes];
        long groups = 0;
        for (long i = 0; i < state.Applied; i++)
        {
            ReadExactly(_records, record, i * RecordBytes);
            long block = BinaryPrimitives.ReadInt64LittleEndian(record);
            long added = BinaryPrimitives.ReadInt64LittleEndian(record[8..]);
            _appliedBlocks.Add(block);
            _appliedSet.Add(block);
            _keys.Add(record[16..].ToArray());
            groups += added;
            _groupsAfter.Add(_preSharedGroups + groups);
        }
        CryptographicOperations.ZeroMemory(record);
        if (groups * GroupBytes != state.ReplenishedBytes)
            throw new InvalidDataException($"Replenishment records {Path.Combine(StateDirectory, RecordsFileName)} add up to {groups * GroupBytes} bytes but the state records {state.ReplenishedBytes}: the state directory is damaged.");
        _replenishedBytes = state.ReplenishedBytes;
        for (int c = 0; c < 2; c++)
        {
            _sendNext[c] = _sendReserved[c] = state.SendReserved[c]; // skip the whole last reservation: some of it may have been used
            _accepted[c] = _acceptedPersisted[c] = state.Accepted[c];
        }
        _noticeNext = _noticeReserved = state.NoticeReserved;
        _peerConfirmed = state.PeerConfirmed;
        _everEstablished = state.Established;
        foreach (string file in Directory.EnumerateFiles(_pendingDirectory))
        {
            string name = Path.GetFileName(file);
            if (name.EndsWith(".pad", StringComparison.Ordinal) && long.TryParse(name[..^4], NumberStyles.None, CultureInfo.InvariantCulture, out long block))
            {
                if (_appliedSet.Contains(block)) Erase(file); // applied just before a crash, not yet erased
                else _pending.Add(block);
            }
            else if (name.EndsWith(".tmp", StringComparison.Ordinal)) Erase(file);
        }
    }

    private void TryWriteState()
    {
        try { WriteState(); }
        catch (IOException) { }
    }

    private void WriteState()
    {
        _generation++;
        Span<byte> slot = stackalloc byte[SlotBytes];
        slot.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(slot, Magic);
        slot[4] = FormatVersion;
        slot[5] = (byte)LocalEnd;
        slot[6] = (byte)((_everEstablished ? 1 : 0) | (_condemned ? 2 : 0));
        BinaryPrimitives.WriteInt64LittleEndian(slot[8..], _generation);
        BinaryPrimitives.WriteInt64LittleEndian(slot[16..], _sendReserved[0]);
        BinaryPrimitives.WriteInt64LittleEndian(slot[24..], _sendReserved[1]);
        BinaryPrimitives.WriteInt64LittleEndian(slot[32..], _noticeReserved);
        BinaryPrimitives.WriteInt64LittleEndian(slot[40..], _accepted[0]);
        BinaryPrimitives.WriteInt64LittleEndian(slot[48..], _accepted[1]);
        BinaryPrimitives.WriteInt64LittleEndian(slot[56..], _appliedBlocks.Count);
        BinaryPrimitives.WriteInt64LittleEndian(slot[64..], _replenishedBytes);
        BinaryPrimitives.WriteInt64LittleEndian(slot[72..], _peerConfirmed);
        _fingerprint.CopyTo(slot[80..]);
        SHA256.HashData(slot[..96])[..16].CopyTo(slot[96..]);
        RandomAccess.Write(_state, slot, (_generation & 1) * SlotBytes);
        RandomAccess.FlushToDisk(_state);
        _acceptedPersisted[0] = _accepted[0];
        _acceptedPersisted[1] = _accepted[1];
    }

    private readonly record struct State(ChannelEnd End, long Generation, bool Established, bool Condemned, long[] SendReserved, long NoticeReserved,
        long[] Accepted, long Applied, long ReplenishedBytes, long PeerConfirmed, byte[] Fingerprint);

    private static bool TryParse(ReadOnlySpan<byte> slot, out State state)
    {
        state = default;
        if (BinaryPrimitives.ReadUInt32LittleEndian(slot) != Magic || slot[4] != FormatVersion || slot[5] > 1 || slot[6] > 3) return false;
        if (!SHA256.HashData(slot[..96]).AsSpan(0, 16).SequenceEqual(slot[96..112])) return false;
        var v = new long[9];
        for (int i = 0; i < v.Length; i++) v[i] = BinaryPrimitives.ReadInt64LittleEndian(slot[(8 + 8 * i)..]);
        state = new State((ChannelEnd)slot[5], v[0], (slot[6] & 1) != 0, (slot[6] & 2) != 0, [v[1], v[2]], v[3],
            [v[4], v[5]], v[6], v[7], v[8], slot.Slice(80, 16).ToArray());
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

    /// <summary>fsync of a directory, so a newly created or renamed file survives a power cut.</summary>
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
