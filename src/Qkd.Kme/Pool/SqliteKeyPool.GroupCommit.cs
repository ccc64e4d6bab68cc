using System.Diagnostics;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Qkd.Kme.Pool;

/// <summary>
/// Group commit for the delivery operations (enc_keys, the peer's reservation, dec_keys). Under synchronous=FULL every
/// commit costs an fsync, and one transaction per operation caps the pool at the disk's fsync rate. So callers queue
/// their operation and one writer thread runs everything queued in ONE transaction and commits it; whatever queued
/// meanwhile forms the next batch. A lone caller therefore commits at once, and batches form only while a commit is
/// in flight.
/// </summary>
/// <remarks>
/// <para>Callers wait on a task, not on a thread: the fsync blocks only the writer thread. (With a blocked thread per
/// waiting caller, a server on 2 cores starved its thread pool and served a fraction of what the disk allowed.)</para>
/// <para>An operation that is refused (exhausted pool, unknown or foreign key, conflicting reservation) fails alone: its
/// caller gets its own exception and the others go on. Each operation checks everything before its first write, so a
/// refusal leaves nothing to undo and no savepoint per operation is needed (SQLite's change counter confirms it; an
/// operation that wrote and then failed abandons the whole batch instead).
/// Operations see the effects of those before them in the batch, so two callers never get the same key.</para>
/// <para>A caller's keys are returned only after the commit that deleted them has returned, i.e. is durable. If the
/// batch as a whole fails (SQLite error, commit failure, pool disposed) every operation in it fails, nothing is
/// taken, and keys already decrypted for it are zeroised.</para>
/// </remarks>
public sealed partial class SqliteKeyPool
{
    // Bounds one transaction's size (and so the wait of the last caller in it); more callers than this wait one commit.
    private const int MaxBatchOperations = 256;

    // Guards the queue; the writer thread waits on it (Monitor) while the queue is empty.
    private readonly object _queueGate = new();
    private List<PendingWrite> _queue = [];
    private List<PendingWrite> _spareQueue = []; // the writer's other list, null while it holds a batch
    private bool _writerActive;
    private bool _writerStopping;
    private Thread? _writer;
    private long _batchesCommitted;

    /// <summary>Transactions committed for delivery operations (one per batch), for the tests.</summary>
    internal long BatchesCommitted => Interlocked.Read(ref _batchesCommitted);

    /// <summary>Whether the writer is running a batch and how many operations wait for the next one, for the tests.</summary>
    internal (bool WriterActive, int Queued) WriteQueueState
    {
        get { lock (_queueGate) return (_writerActive, _queue.Count); }
    }

    /// <summary>Holds the pool's lock so a writer stalls and the next operations queue up into one batch, for the tests.</summary>
    internal Lock.Scope StallWriterForTest() => _gate.EnterScope();

    /// <summary>What an operation changes in the committed mirrors, applied only once its batch has committed.</summary>
    private struct MirrorChange
    {
        public long Available, Held, Reservations, Outbox;
        public Counters Counters;

        public void Add(in MirrorChange c)
        {
            Available += c.Available;
            Held += c.Held;
            Reservations += c.Reservations;
            Outbox += c.Outbox;
            Counters.Add(c.Counters);
        }
    }

    /// <summary>One operation's work inside the batch transaction; <paramref name="available"/> counts the master keys left after the operations before it.</summary>
    private delegate T Stage<T>(SqliteTransaction tx, long available, out MirrorChange change);

    private void StartWriter()
    {
        _writer = new Thread(WriterLoop) { IsBackground = true, Name = $"key pool writer ({Path.GetFileName(DatabasePath)})" };
        _writer.Start();
    }

    /// <summary>Queues one operation; the task completes once the transaction holding it has committed (or it failed).</summary>
    private Task<T> WriteAsync<T>(Stage<T> stage, Action<T>? discard = null)
    {
        var op = new PendingWrite<T>(stage, discard);
        lock (_queueGate)
        {
            if (_writerStopping) return Task.FromException<T>(new ObjectDisposedException(nameof(SqliteKeyPool)));
            _queue.Add(op);
            // The writer waits only on an empty queue, so only the first operation queued needs to wake it.
            if (_queue.Count == 1) Monitor.Pulse(_queueGate);
        }
        return op.Completion.Task;
    }

    /// <summary>The writer thread: takes what is queued (up to a batch), runs and commits it, completes its callers; until disposed and drained.</summary>
    private void WriterLoop()
    {
        while (true)
        {
            List<PendingWrite> batch;
            lock (_queueGate)
            {
                _writerActive = false;
                while (_queue.Count == 0 && !_writerStopping) Monitor.Wait(_queueGate);
                if (_queue.Count == 0) return;
                _writerActive = true;
                if (_queue.Count <= MaxBatchOperations)
                {
                    // Swap the lists rather than allocate one per batch.
                    batch = _queue;
                    _queue = _spareQueue;
                }
                else
                {
                    batch = _spareQueue;
                    for (int i = 0; i < MaxBatchOperations; i++) batch.Add(_queue[i]);
                    _queue.RemoveRange(0, MaxBatchOperations);
                }
                _spareQueue = null!; // in use until the batch is done
            }

            try
            {
                ExecuteBatch(batch);
            }
            catch (Exception e)
            {
                // ExecuteBatch fails the batch itself; this is only a last guard so no caller waits forever.
                foreach (var op in batch)
                    if (op.Failure is null)
                        op.Fail(e);
            }
            foreach (var op in batch) op.Complete();
            batch.Clear();
            lock (_queueGate) _spareQueue = batch;
            ScrubIfDue(); // SqliteKeyPool.Scrub.cs: consumed keys out of the -wal file once the queue is idle
        }
    }

    /// <summary>Lets the writer finish what is queued, then stops it; operations queued later fail as disposed.</summary>
    private void StopWriter()
    {
        lock (_queueGate)
        {
            _writerStopping = true;
            Monitor.PulseAll(_queueGate);
        }
        if (_writer is not null && _writer != Thread.CurrentThread) _writer.Join();
    }

    private void ExecuteBatch(List<PendingWrite> batch)
    {
        lock (_gate)
        {
            try
            {
                ThrowIfDisposed();
                long stageStart = Stopwatch.GetTimestamp();
                using var tx = _db.BeginTransaction();
                var total = new MirrorChange();
                int succeeded = 0;
                foreach (var op in batch)
                {
                    int changesBefore = raw.sqlite3_total_changes(_db.Handle);
                    try
                    {
                        op.Execute(tx, _available + total.Available);
                    }
                    // A SqliteException may have ended the transaction itself (SQLITE_FULL, I/O error): it fails the
                    // batch below. Anything else is this operation's own refusal, thrown before its first write.
                    catch (Exception e) when (e is not SqliteException)
                    {
                        op.Fail(e);
                        if (raw.sqlite3_total_changes(_db.Handle) != changesBefore)
                            throw new InvalidOperationException("a refused operation had already written; the batch is abandoned rather than commit half of it", e);
                        continue;
                    }
                    total.Add(op.Change);
                    succeeded++;
                }

                if (succeeded == 0)
                {
                    _ledger.Abandon();
                    tx.Rollback();
                    return;
                }
                UpdateStats(tx, total.Counters);
                bool consumed = BeforeCommit(tx, total); // SqliteKeyPool.Ledger.cs: consumed keys marked, generation counted
                long commitStart = Stopwatch.GetTimestamp();
                tx.Commit();
                _metrics.RecordCommit(batch.Count, Stopwatch.GetElapsedTime(stageStart, commitStart), Stopwatch.GetElapsedTime(commitStart));
                Interlocked.Increment(ref _batchesCommitted);
                _available += total.Available;
                _held += total.Held;
                _reservations += total.Reservations;
                _outbox += total.Outbox;
                _counters.Add(total.Counters);
                AfterCommit(consumed); // the generation file, before any caller sees a key
            }
            catch (Exception e)
            {
                _ledger.Abandon();
                // Nothing of this batch was committed: every operation still standing fails, its keys zeroised.
                foreach (var op in batch)
                    if (op.Failure is null)
                        op.Fail(FailureOfWholeBatch(e));
            }
        }
    }

    /// <summary>A separate exception per caller (each is thrown on its own thread), of the same kind where that matters.</summary>
    private Exception FailureOfWholeBatch(Exception e) => e switch
    {
        ObjectDisposedException => new ObjectDisposedException(nameof(SqliteKeyPool)),
        SqliteException s => new SqliteException(
            $"Key pool {DatabasePath}: the transaction carrying this operation failed, nothing was taken: {s.Message}",
            s.SqliteErrorCode, s.SqliteExtendedErrorCode),
        _ => new InvalidOperationException($"Key pool {DatabasePath}: the transaction carrying this operation failed, nothing was taken: {e.Message}", e),
    };

    /// <summary>A queued operation: its state is written by the writer thread, then published to its caller by <see cref="Complete"/>.</summary>
    private abstract class PendingWrite
    {
        public Exception? Failure;
        public MirrorChange Change;

        public abstract void Execute(SqliteTransaction tx, long available);

        /// <summary>Records the failure and zeroises any keys already decrypted for this operation.</summary>
        public abstract void Fail(Exception failure);

        /// <summary>Hands the result or the failure to the caller (its continuation runs elsewhere, not on the writer thread).</summary>
        public abstract void Complete();
    }

    private sealed class PendingWrite<T>(Stage<T> stage, Action<T>? discard) : PendingWrite
    {
        public readonly TaskCompletionSource<T> Completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _result;

        public override void Execute(SqliteTransaction tx, long available) => _result = stage(tx, available, out Change);

        public override void Fail(Exception failure)
        {
            Failure = failure;
            if (_result is { } result) discard?.Invoke(result);
            _result = default;
        }

        public override void Complete()
        {
            if (Failure is { } failure) Completion.SetException(failure);
            else Completion.SetResult(_result!);
        }
    }
}
