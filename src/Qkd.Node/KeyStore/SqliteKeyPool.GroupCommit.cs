using System.Runtime.ExceptionServices;
using Microsoft.Data.Sqlite;

namespace Qkd.Node.KeyStore;

/// <summary>
/// Group commit for the delivery operations (enc_keys, the peer's reservation, dec_keys). Under synchronous=FULL every
/// commit costs an fsync, and one transaction per operation caps the pool at the disk's fsync rate. So callers queue
/// their operation; whoever finds no writer at work becomes the writer, runs everything queued in ONE transaction and
/// commits it, then hands the role to the first caller queued meanwhile. A lone caller therefore commits at once, and
/// batches form only while a commit is in flight.
/// </summary>
/// <remarks>
/// <para>Each operation in a batch of several runs inside its own SAVEPOINT: one that fails (exhausted pool, unknown or
/// foreign key, conflicting reservation) is rolled back alone and its caller gets its own exception; the others go on.
/// Operations see the effects of those before them in the batch, so two callers never get the same key.</para>
/// <para>A caller's keys are returned only after the commit that deleted them has returned, i.e. is durable. If the
/// batch as a whole fails (SQLite error, commit failure, pool disposed) every operation in it fails, nothing is
/// taken, and keys already decrypted for it are zeroised.</para>
/// </remarks>
public sealed partial class SqliteKeyPool
{
    // Bounds one transaction's size (and so the wait of the last caller in it); more callers than this wait one commit.
    private const int MaxBatchOperations = 256;

    private readonly Lock _queueGate = new();
    private List<PendingWrite> _queue = [];
    private bool _writerActive;
    private long _batchesCommitted;

    /// <summary>Transactions committed for delivery operations (one per batch), for the tests.</summary>
    internal long BatchesCommitted => Interlocked.Read(ref _batchesCommitted);

    /// <summary>Whether a writer is at work and how many operations wait for the next batch, for the tests.</summary>
    internal (bool WriterActive, int Queued) WriteQueueState
    {
        get { lock (_queueGate) return (_writerActive, _queue.Count); }
    }

    /// <summary>Holds the pool's lock so a writer stalls and the next operations queue up into one batch, for the tests.</summary>
    internal Lock.Scope StallWriterForTest() => _gate.EnterScope();

    /// <summary>What an operation changes in the committed mirrors, applied only once its batch has committed.</summary>
    private struct MirrorChange
    {
        public long Available, Held, Reservations;
        public Counters Counters;

        public void Add(in MirrorChange c)
        {
            Available += c.Available;
            Held += c.Held;
            Reservations += c.Reservations;
            Counters.Add(c.Counters);
        }
    }

    /// <summary>One operation's work inside the batch transaction; <paramref name="available"/> counts the master keys left after the operations before it.</summary>
    private delegate T Stage<T>(SqliteTransaction tx, long available, out MirrorChange change);

    /// <summary>Queues one operation, waits until the transaction holding it has committed (or it failed), returns its result.</summary>
    private T Write<T>(Stage<T> stage, Action<T>? discard = null)
    {
        var op = new PendingWrite<T>(stage, discard);
        bool lead;
        lock (_queueGate)
        {
            _queue.Add(op);
            // With no writer active the queue is empty, so this operation is first in the batch it will lead.
            lead = !_writerActive;
            _writerActive = true;
            if (!lead) op.Signal = new ManualResetEventSlim(false);
        }
        if (!lead)
        {
            op.Signal!.Wait();
            lead = !op.Done; // woken either as done or as the next writer
        }
        if (lead) LeadOneBatch(op);
        if (op.Failure is { } failure) ExceptionDispatchInfo.Throw(failure);
        return op.Result!;
    }

    /// <summary>The writer's turn: takes the queue (its own operation first), runs and commits it, hands over, wakes the callers.</summary>
    private void LeadOneBatch(PendingWrite own)
    {
        List<PendingWrite> batch;
        lock (_queueGate)
        {
            if (_queue.Count <= MaxBatchOperations)
            {
                batch = _queue;
                _queue = [];
            }
            else
            {
                batch = _queue.GetRange(0, MaxBatchOperations);
                _queue.RemoveRange(0, MaxBatchOperations);
            }
        }

        try
        {
            ExecuteBatch(batch);
        }
        finally
        {
            // Hand over before waking this batch's callers, so the next commit starts as early as possible.
            PendingWrite? next = null;
            lock (_queueGate)
            {
                if (_queue.Count > 0) next = _queue[0];
                else _writerActive = false;
            }
            next?.Signal!.Set(); // not done, so it knows it is the writer now
            foreach (var op in batch)
            {
                op.Done = true;
                if (!ReferenceEquals(op, own)) op.Signal!.Set();
            }
        }
    }

    private void ExecuteBatch(List<PendingWrite> batch)
    {
        lock (_gate)
        {
            try
            {
                ThrowIfDisposed();
                // A lone operation needs no savepoint: if it fails, the whole transaction is rolled back.
                bool isolate = batch.Count > 1;
                using var tx = _db.BeginTransaction();
                var total = new MirrorChange();
                int succeeded = 0;
                foreach (var op in batch)
                {
                    if (isolate) RunSavepointCommand(_savepoint, tx);
                    try
                    {
                        op.Execute(tx, _available + total.Available);
                    }
                    // A SqliteException may have ended the transaction itself (SQLITE_FULL, I/O error): it fails the
                    // batch below. Anything else is this operation's own refusal, thrown before or between statements.
                    catch (Exception e) when (e is not SqliteException)
                    {
                        op.Fail(e);
                        if (isolate)
                        {
                            RunSavepointCommand(_rollbackToSavepoint, tx);
                            RunSavepointCommand(_releaseSavepoint, tx);
                        }
                        continue;
                    }
                    if (isolate) RunSavepointCommand(_releaseSavepoint, tx);
                    total.Add(op.Change);
                    succeeded++;
                }

                if (succeeded == 0)
                {
                    tx.Rollback();
                    return;
                }
                UpdateStats(tx, total.Counters);
                tx.Commit();
                Interlocked.Increment(ref _batchesCommitted);
                _available += total.Available;
                _held += total.Held;
                _reservations += total.Reservations;
                _counters.Add(total.Counters);
            }
            catch (Exception e)
            {
                // Nothing of this batch was committed: every operation still standing fails, its keys zeroised.
                foreach (var op in batch)
                    if (op.Failure is null)
                        op.Fail(FailureOfWholeBatch(e));
            }
        }
    }

    private static void RunSavepointCommand(SqliteCommand command, SqliteTransaction tx)
    {
        command.Transaction = tx;
        command.ExecuteNonQuery();
    }

    /// <summary>A separate exception per caller (each is thrown on its own thread), of the same kind where that matters.</summary>
    private Exception FailureOfWholeBatch(Exception e) => e switch
    {
        ObjectDisposedException => new ObjectDisposedException(nameof(SqliteKeyPool)),
        SqliteException s => new SqliteException(
            $"Key store {DatabasePath}: the transaction carrying this operation failed, nothing was taken: {s.Message}",
            s.SqliteErrorCode, s.SqliteExtendedErrorCode),
        _ => new InvalidOperationException($"Key store {DatabasePath}: the transaction carrying this operation failed, nothing was taken: {e.Message}", e),
    };

    /// <summary>A queued operation: its state is written by the writer and read by its caller after <see cref="Signal"/> (or by the writer itself).</summary>
    private abstract class PendingWrite
    {
        /// <summary>Set for a caller that waits (not one that found no writer at work); raised once, when done or made writer.</summary>
        public ManualResetEventSlim? Signal;

        public bool Done;
        public Exception? Failure;
        public MirrorChange Change;

        public abstract void Execute(SqliteTransaction tx, long available);

        /// <summary>Records the failure and zeroises any keys already decrypted for this operation.</summary>
        public abstract void Fail(Exception failure);
    }

    private sealed class PendingWrite<T>(Stage<T> stage, Action<T>? discard) : PendingWrite
    {
        public T? Result;

        public override void Execute(SqliteTransaction tx, long available) => Result = stage(tx, available, out Change);

        public override void Fail(Exception failure)
        {
            Failure = failure;
            if (Result is { } result) discard?.Invoke(result);
            Result = default;
        }
    }
}
