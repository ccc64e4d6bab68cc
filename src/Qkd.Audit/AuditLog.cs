using System.Diagnostics.Metrics;
using System.Security.Cryptography;

namespace Qkd.Audit;

/// <summary>
/// The node's audit log: one sealed JSON line per event (<see cref="AuditLineCodec"/>), each carrying its sequence
/// number, its time and the previous line's hash, appended to the file (never rewritten) with one write per line, and a
/// sealed head file (<c>FILE.head</c>) updated after every line so lines cut from the end show. Thread-safe: lines are
/// written one at a time in sequence order. Rotation (optional, <see cref="AuditLogOptions.MaxFileBytes"/>) renames the
/// active file to <c>FILE.&lt;first sequence&gt;</c> and goes on in a new one; the chain continues across files.
/// </summary>
/// <remarks>
/// <para>Durability: with <see cref="AuditLogOptions.FsyncEveryLine"/> (default) a line and then the head are flushed
/// to disk (fsync) before <see cref="Write"/> returns; the head is replaced by writing a temporary file and renaming it
/// over the old one, so it is never half written. A crash between the two leaves the head one line behind, which the
/// verifier accepts and the next open reseals.</para>
/// <para>Opening an existing log verifies it first: a log that fails (tampered with, or its key is not this one) stops
/// the node with the first bad line named, and is left as it is, as evidence.</para>
/// <para>A write that fails (disk full) throws <see cref="AuditLogException"/>, and so does every write after it: the
/// log is not continued past a line that may be half written.</para>
/// </remarks>
public sealed class AuditLog : IAuditLog, IDisposable
{
    public const string MeterName = "Qkd.Audit";

    private readonly object _gate = new();
    private readonly string _path;
    private readonly AuditKey _key;
    private readonly AuditLogOptions _options;
    private readonly TimeProvider _time;
    private readonly Meter _meter = new(MeterName);
    private readonly Counter<long> _lines;
    private FileStream _file;
    private long _activeFirstSeq, _activeBytes, _nextSeq;
    private string _lastHash;
    private Exception? _failed;
    private bool _disposed;

    private AuditLog(string path, AuditKey key, AuditLogOptions options, TimeProvider time, AuditVerification existing)
    {
        _path = path;
        _key = key;
        _options = options;
        _time = time;
        _nextSeq = existing.LastSeq + 1;
        _lastHash = existing.LastHash;
        LastConfigSha256 = existing.LastConfigSha256;
        bool activeExists = File.Exists(path);
        _activeFirstSeq = activeExists ? existing.ActiveFirstSeq : _nextSeq;
        _activeBytes = activeExists ? existing.ActiveBytes : 0;
        _file = OpenActive(path);
        _lines = _meter.CreateCounter<long>("qkd.audit.lines", "{line}", "Audit lines written by this process");
        // The head's sequence number outside the node: a scraper that saw it higher before sees a log cut back together with its head.
        _meter.CreateObservableGauge("qkd.audit.head_sequence", () => Interlocked.Read(ref _nextSeq) - 1, "{line}",
            "Sequence number of the last audit line (-1: none); it never goes down, across restarts too");
        _meter.CreateObservableCounter("qkd.audit.write_failures", () => _failed is null ? 0 : 1, "{failure}", "Audit writes refused because an earlier one failed");
    }

    /// <summary>The configuration hash the last nodeStarted line recorded (null: none).</summary>
    public string? LastConfigSha256 { get; private set; }

    /// <summary>The sequence number the next line will carry.</summary>
    public long NextSequence => Interlocked.Read(ref _nextSeq);

    /// <summary>
    /// Opens (creating if need be) the log at <paramref name="path"/>. An existing log is verified with
    /// <paramref name="key"/> first (<see cref="AuditVerifier"/>); the key stays the caller's and must outlive the log.
    /// </summary>
    /// <exception cref="AuditLogException">The existing log does not verify; the message names the file, line and problem.</exception>
    public static AuditLog Open(string path, AuditKey key, AuditLogOptions? options = null, TimeProvider? time = null)
    {
        string full = Path.GetFullPath(path);
        options ??= new AuditLogOptions(full, "");
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        bool exists = File.Exists(full) || AuditVerifier.RotatedFiles(full).Count > 0;
        var existing = new AuditVerification();
        if (exists)
        {
            existing = AuditVerifier.Verify(full, key);
            if (!existing.Ok)
                throw new AuditLogException($"Audit log {full} does not verify, so it is not continued: {existing.Summary()} " +
                                            "Keep it as evidence, move it (and its .head and rotated files) aside, and start again.");
        }
        var log = new AuditLog(full, key, options, time ?? TimeProvider.System, existing);
        // A fresh log is sealed empty (head -1) before its first line; a head a crash left one line behind is resealed.
        if (!exists || existing.HeadSeq != existing.LastSeq) log.WriteHead();
        return log;
    }

    /// <summary>Opens the log a node's "audit" section names, refusing to start without its key while the log exists.</summary>
    /// <param name="baseDirectory">Where relative paths in the section start (the config file's folder).</param>
    /// <exception cref="AuditLogException">The key is missing while the log exists, unreadable, or the log does not verify.</exception>
    public static (AuditLog Log, AuditKey Key) OpenConfigured(AuditLogOptions options, string baseDirectory, TimeProvider? time = null)
    {
        string log = Path.GetFullPath(Path.Combine(baseDirectory, options.Log));
        string keyFile = Path.GetFullPath(Path.Combine(baseDirectory, options.KeyFile));
        if (!File.Exists(keyFile))
        {
            if (File.Exists(log) || AuditVerifier.RotatedFiles(log).Count > 0)
                throw new AuditLogException($"audit.keyFile {keyFile} is missing but the audit log {log} exists: restore the key (a new key would not verify the log).");
            // No log yet: the first start makes the key, as `qkd node init` would have.
            AuditKey.WriteNewKeyFile(keyFile);
        }
        var key = AuditKey.FromFile(keyFile);
        try
        {
            return (Open(log, key, options with { Log = log, KeyFile = keyFile }, time), key);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    public void Write(AuditEvent auditEvent)
    {
        ArgumentNullException.ThrowIfNull(auditEvent);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_failed is not null) throw new AuditLogException($"Audit log {_path} stopped after a failed write: {_failed.Message}", _failed);
            try
            {
                var entry = new AuditEntry(_nextSeq, _time.GetUtcNow(), _lastHash, auditEvent);
                byte[] line = AuditLineCodec.Seal(entry, AuditJson.Default.AuditEntry, _key);
                if (_options.MaxFileBytes > 0 && _activeBytes > 0 && _activeBytes + line.Length + 1 > _options.MaxFileBytes) Rotate();
                var buffer = new byte[line.Length + 1];
                line.CopyTo(buffer, 0);
                buffer[^1] = (byte)'\n';
                // One write per line: a reader (or a crash) never sees half of one line glued to the next.
                _file.Write(buffer);
                _file.Flush(flushToDisk: _options.FsyncEveryLine);
                _activeBytes += buffer.Length;
                _lastHash = AuditLineCodec.Hash(line);
                Interlocked.Increment(ref _nextSeq);
                if (auditEvent.Kind == AuditEventKind.NodeStarted) LastConfigSha256 = auditEvent.ConfigSha256;
                WriteHead();
                _lines.Add(1);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _failed = e;
                throw new AuditLogException($"Audit log {_path}: writing sequence {_nextSeq} failed: {e.Message}", e);
            }
        }
    }

    /// <summary>
    /// Records the node's start with its configuration file's SHA-256 and, when that differs from the hash the previous
    /// start recorded, a configurationChanged line with both.
    /// </summary>
    public void WriteNodeStarted(string role, string linkId, string? configFile)
    {
        string? sha = configFile is not null && File.Exists(configFile) ? Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(configFile))) : null;
        string? previous = LastConfigSha256;
        Write(AuditEvent.NodeStarted(role, linkId, configFile, sha));
        if (previous is not null && previous != sha) Write(AuditEvent.ConfigurationChanged(configFile, previous, sha));
    }

    private void Rotate()
    {
        _file.Flush(flushToDisk: true);
        _file.Dispose();
        File.Move(_path, AuditVerifier.RotatedName(_path, _activeFirstSeq));
        _file = OpenActive(_path);
        _activeFirstSeq = _nextSeq;
        _activeBytes = 0;
    }

    private void WriteHead()
    {
        var head = new AuditHead(_nextSeq - 1, _lastHash, _time.GetUtcNow());
        byte[] line = AuditLineCodec.Seal(head, AuditJson.Default.AuditHead, _key);
        string headPath = AuditVerifier.HeadPath(_path), temporary = headPath + ".tmp";
        using (var file = new FileStream(temporary, PrivateFile(FileMode.Create)))
        {
            file.Write(line);
            file.WriteByte((byte)'\n');
            file.Flush(flushToDisk: _options.FsyncEveryLine);
        }
        File.Move(temporary, headPath, overwrite: true);
    }

    private static FileStream OpenActive(string path) => new(path, PrivateFile(FileMode.Append));

    // Owner-only: the log names SAEs and key IDs, which are not secret but are no one else's business on the machine.
    private static FileStreamOptions PrivateFile(FileMode mode)
    {
        var options = new FileStreamOptions { Mode = mode, Access = FileAccess.Write, Share = FileShare.Read };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        return options;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _file.Dispose();
            _meter.Dispose();
        }
    }
}
