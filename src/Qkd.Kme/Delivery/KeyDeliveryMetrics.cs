using System.Diagnostics.Metrics;
using Qkd.Kme.Pool;

namespace Qkd.Kme.Delivery;

/// <summary>
/// Where an ETSI request's time goes inside the KME (meter "Qkd.Kme", beside the pool's): waiting for the pool (its
/// group commit, fsync included) and, for enc_keys, waiting for the peer KME to record the reservation (the KME link's
/// round trip and the peer's own commit). The rest of a client's latency is HTTP, TLS and the network.
/// </summary>
public sealed class KeyDeliveryMetrics : IDisposable
{
    private static readonly KeyValuePair<string, object?> EncKeys = new("operation", "enc_keys");
    private static readonly KeyValuePair<string, object?> DecKeys = new("operation", "dec_keys");

    private readonly Meter _meter = new(KeyPoolMetrics.MeterName);
    private readonly Histogram<double> _pool;
    private readonly Histogram<double> _reservation;

    public KeyDeliveryMetrics()
    {
        _pool = _meter.CreateHistogram<double>("qkd.delivery.pool_duration", "s", "Time an enc_keys or dec_keys waited for the key pool (queue and commit)");
        _reservation = _meter.CreateHistogram<double>("qkd.delivery.reservation_duration", "s",
            "Time an enc_keys waited for the peer KME to record its reservation (KME link and the peer's commit)");
    }

    public void RecordPool(bool enc, TimeSpan duration) => _pool.Record(duration.TotalSeconds, enc ? EncKeys : DecKeys);

    public void RecordReservation(TimeSpan duration) => _reservation.Record(duration.TotalSeconds, EncKeys);

    public void Dispose() => _meter.Dispose();
}
