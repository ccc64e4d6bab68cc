using System.Diagnostics.Metrics;

namespace Qkd.Kme.Pool;

/// <summary>
/// The pool's counters as System.Diagnostics.Metrics instruments (meter "Qkd.Kme"), read from
/// <see cref="SqliteKeyPool.Statistics"/> when a listener collects, tagged with the link and the role.
/// </summary>
public sealed class KeyPoolMetrics : IDisposable
{
    public const string MeterName = "Qkd.Kme";

    private readonly Meter _meter = new(MeterName);
    private readonly KeyValuePair<string, object?>[] _tags;
    private readonly Histogram<int> _batchOperations;
    private readonly Histogram<double> _commitDuration;
    private readonly Histogram<double> _stageDuration;
    private readonly Histogram<double> _scrubDuration;

    internal KeyPoolMetrics(SqliteKeyPool pool, string linkId, KmeRole role)
    {
        var tags = _tags = [new("link", linkId), new("role", role.ToString().ToLowerInvariant())];
        Measurement<long> M(Func<KeyPoolStatistics, long> pick) => new(pick(pool.Statistics), tags);
        _meter.CreateObservableGauge("qkd.keypool.available_as_master", () => M(s => s.AvailableAsMaster), "{key}", "Keys this KME can hand out by enc_keys");
        _meter.CreateObservableGauge("qkd.keypool.held_for_peer", () => M(s => s.HeldForPeer), "{key}", "Keys held for dec_keys (the peer is master)");
        _meter.CreateObservableGauge("qkd.keypool.reservations_pending", () => M(s => s.PeerReservationsPending), "{key}", "Peer reservations awaiting dec_keys");
        _meter.CreateObservableCounter("qkd.keypool.blocks_stored", () => M(s => s.BlocksStored), "{block}");
        _meter.CreateObservableCounter("qkd.keypool.blocks_duplicate", () => M(s => s.BlocksDuplicate), "{block}", "Blocks offered again and ignored");
        _meter.CreateObservableCounter("qkd.keypool.keys_stored", () => M(s => s.KeysStored), "{key}");
        _meter.CreateObservableCounter("qkd.keypool.keys_dropped_full", () => M(s => s.KeysDroppedFull), "{key}", "Keys not stored because the pool was full");
        _meter.CreateObservableCounter("qkd.keypool.remainder_bits_dropped", () => M(s => s.RemainderBitsDropped), "bit", "Trailing bits of blocks shorter than one key");
        _meter.CreateObservableCounter("qkd.keypool.delivered_as_master", () => M(s => s.KeysDeliveredAsMaster), "{key}");
        _meter.CreateObservableCounter("qkd.keypool.delivered_as_slave", () => M(s => s.KeysDeliveredAsSlave), "{key}");
        _meter.CreateObservableCounter("qkd.keypool.reservations_recorded", () => M(s => s.ReservationsRecorded), "{key}");
        // Since the pool opened: key rows refused by the delivery ledger (copied back, moved, altered), and truncating
        // checkpoints another reader held up (consumed keys stayed in the -wal file until the retry).
        _meter.CreateObservableCounter("qkd.keypool.rows_refused", () => new Measurement<long>(pool.RowsRefused, tags), "{row}", "Key rows refused: put back after consumption, or not where they belong");
        _meter.CreateObservableCounter("qkd.keypool.scrubs_deferred", () => new Measurement<long>(pool.ScrubsDeferred, tags), "{checkpoint}", "Checkpoints clearing consumed keys from the -wal file that had to wait for another reader");
        _meter.CreateObservableCounter("qkd.keypool.keys_expired", () => M(s => s.KeysExpired), "{key}", "Keys reserved for a slave SAE that did not redeem them in time, deleted");
        _meter.CreateObservableGauge("qkd.keypool.reservations_outstanding", () => M(s => s.ReservationsOutstanding), "{reservation}",
            "This KME's enc_keys reservations not yet confirmed by the peer KME (sent again when the KME link is back)");

        // Group commit: how many delivery operations shared one transaction, and how long its commit (the fsync) took.
        _batchOperations = _meter.CreateHistogram<int>("qkd.keypool.commit_batch_operations", "{operation}", "Delivery operations committed in one transaction");
        _commitDuration = _meter.CreateHistogram<double>("qkd.keypool.commit_duration", "s", "Time to commit one batch of delivery operations (fsync included)");
        // Where the rest of the writer's time goes: running the batch's statements before the commit, and the truncating
        // checkpoints that clear consumed keys from the -wal file (the writer runs nothing else meanwhile).
        _stageDuration = _meter.CreateHistogram<double>("qkd.keypool.stage_duration", "s", "Time to run one batch's statements, before its commit");
        _scrubDuration = _meter.CreateHistogram<double>("qkd.keypool.scrub_duration", "s", "Time of one truncating checkpoint clearing consumed keys from the -wal file");
    }

    public void RecordCommit(int operations, TimeSpan staging, TimeSpan duration)
    {
        _batchOperations.Record(operations, _tags);
        _stageDuration.Record(staging.TotalSeconds, _tags);
        _commitDuration.Record(duration.TotalSeconds, _tags);
    }

    public void RecordScrub(TimeSpan duration) => _scrubDuration.Record(duration.TotalSeconds, _tags);

    public void Dispose() => _meter.Dispose();
}
