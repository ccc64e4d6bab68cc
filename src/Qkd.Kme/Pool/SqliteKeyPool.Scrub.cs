using Microsoft.Extensions.Logging;

namespace Qkd.Kme.Pool;

/// <summary>
/// Scrubbing: no file of the store keeps a consumed key. secure_delete zeroes deleted rows in the database's pages, but
/// in WAL mode every page a key was ever on also sits in the -wal file (written when the key was stored, and again
/// until the deletion is checkpointed), and a checkpoint of the usual kind copies pages back without clearing the log.
/// So after transactions that consumed keys, the pool runs a truncating checkpoint: every page goes to the database
/// (where the deleted rows are zeroes) and the -wal file is cut to zero bytes.
/// </summary>
/// <remarks>
/// <para>When: once the writer has answered a batch that consumed keys and stays idle for
/// <see cref="ScrubIdleDelay"/> (so an idle pool is clean within milliseconds of its last delivery, while a busy one is
/// not checkpointed at every short gap between batches), and under continuous load once the oldest consumption not yet
/// cleared is <see cref="SqliteKeyPoolOptions.ScrubInterval"/> old or <see cref="SqliteKeyPoolOptions.ScrubEveryBatches"/>
/// such batches have committed, whichever comes first. (Measured under load: a checkpoint every 32 batches kept the
/// writer 9-11 % of its time in checkpoints of 10-20 ms each, a stall for every request queued meanwhile; one a
/// second copies each hot page once instead of thirty times.) A checkpoint cannot truncate while another
/// connection (`qkd keys status`, another process) reads an older snapshot; it is then retried every
/// <see cref="ScrubRetryInterval"/>.</para>
/// <para>The -shm file holds only the log's index (page numbers, never page contents).</para>
/// </remarks>
public sealed partial class SqliteKeyPool
{
    private static readonly TimeSpan ScrubRetryInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ScrubIdleDelay = TimeSpan.FromMilliseconds(10);

    // All under _gate.
    private long _consumingTransactions;   // committed transactions that deleted keys
    private long _scrubbedThrough;         // _consumingTransactions covered by the last truncating checkpoint
    private int _consumingSinceScrub;
    private long _unscrubbedSince;          // Stopwatch timestamp of the first consuming transaction not yet scrubbed
    private long _scrubsDeferred;
    private Timer? _scrubRetry;
    private readonly List<(long Through, TaskCompletionSource Done)> _scrubWaiters = [];

    /// <summary>Truncating checkpoints that could not complete at once (another reader); each was retried.</summary>
    public long ScrubsDeferred
    {
        get { lock (_gate) return _scrubsDeferred; }
    }

    /// <summary>
    /// Completes once every key consumed before the call is gone from the -wal file too (a truncating checkpoint has
    /// run since). For tests and tools that inspect the files.
    /// </summary>
    internal Task WhenScrubbedAsync()
    {
        lock (_gate)
        {
            if (_scrubbedThrough >= _consumingTransactions) return Task.CompletedTask;
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _scrubWaiters.Add((_consumingTransactions, done));
            return done.Task;
        }
    }

    /// <summary>A transaction that deleted keys has committed (under _gate).</summary>
    private void ConsumedCommitted()
    {
        _consumingTransactions++;
        if (_consumingSinceScrub++ == 0) _unscrubbedSince = System.Diagnostics.Stopwatch.GetTimestamp();
    }

    /// <summary>On the writer thread after a batch was answered: scrubs after enough batches, or soon if the writer stays idle.</summary>
    private void ScrubIfDue()
    {
        lock (_gate)
        {
            if (_disposed || _scrubbedThrough >= _consumingTransactions) return;
            if (_consumingSinceScrub >= Options.ScrubEveryBatches
                || System.Diagnostics.Stopwatch.GetElapsedTime(_unscrubbedSince) >= Options.ScrubInterval)
            {
                Scrub();
                return;
            }
            _scrubRetry ??= new Timer(_ => ScrubWhenIdle(), null, Timeout.Infinite, Timeout.Infinite);
            _scrubRetry.Change(ScrubIdleDelay, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>The timer: scrubs unless the writer is busy again (it then comes back here after its batch).</summary>
    private void ScrubWhenIdle()
    {
        lock (_queueGate)
            if (_writerActive || _queue.Count > 0) return;
        lock (_gate)
        {
            if (_disposed || _scrubbedThrough >= _consumingTransactions) return;
            Scrub();
        }
    }

    /// <summary>The truncating checkpoint (under _gate); false when another reader kept it from finishing.</summary>
    private bool Scrub()
    {
        long through = _consumingTransactions;
        long busy;
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            using var cmd = _db.CreateCommand();
            cmd.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            using var reader = cmd.ExecuteReader();
            busy = reader.Read() ? reader.GetInt64(0) : 1;
        }
        catch (Microsoft.Data.Sqlite.SqliteException e)
        {
            _logger.LogWarning("Key pool {Path}: the checkpoint that clears consumed keys from the -wal file failed ({Error}); retrying", DatabasePath, e.Message);
            busy = 1;
        }
        _metrics.RecordScrub(System.Diagnostics.Stopwatch.GetElapsedTime(start));
        if (busy != 0)
        {
            _scrubsDeferred++;
            _scrubRetry ??= new Timer(_ => ScrubWhenIdle(), null, Timeout.Infinite, Timeout.Infinite);
            _scrubRetry.Change(ScrubRetryInterval, Timeout.InfiniteTimeSpan);
            return false;
        }
        _scrubbedThrough = through;
        _consumingSinceScrub = 0;
        // Everything is in the database file and synced now (with synchronous=NORMAL, the first point where the
        // transactions are durable): the generation file may record the exact count.
        AdvanceGenerationFile();
        for (int i = _scrubWaiters.Count - 1; i >= 0; i--)
        {
            if (_scrubWaiters[i].Through > through) continue;
            _scrubWaiters[i].Done.TrySetResult();
            _scrubWaiters.RemoveAt(i);
        }
        return true;
    }

    /// <summary>At dispose (under _gate, before the connection closes): a last scrub, and waiters released.</summary>
    private void ScrubOnClose()
    {
        _scrubRetry?.Dispose();
        _scrubRetry = null;
        try
        {
            if (_scrubbedThrough < _consumingTransactions) Scrub();
            // A clean stop records the exact count (with FULL every commit is durable, scrubbed or not).
            if (Options.Durability == KeyPoolDurability.Full) AdvanceGenerationFile();
        }
        catch (IOException e)
        {
            // Closing must not throw; the next open still checks against the last count recorded.
            _logger.LogError("Key pool {Path}: closing: {Error}", DatabasePath, e.Message);
        }
        _scrubRetry?.Dispose();
        foreach (var (_, done) in _scrubWaiters) done.TrySetException(new ObjectDisposedException(nameof(SqliteKeyPool)));
        _scrubWaiters.Clear();
    }
}
