using System.Diagnostics.Metrics;
using Qkd.Distillation.FrameSync;

namespace Qkd.Node.Metrics;

/// <summary>
/// What Bob's frame synchronisation found, per session (meter "Qkd.Node", like the node's other instruments): the
/// offset between his pulse count and Alice's, the pilot's error rate, and the sessions where it failed. An offset that
/// jumps between sessions, or a pilot error rate that rises, says the receiver's timing changed (a fibre swapped, a
/// clock that slipped) before the QBER does. Public information: the pilot is disclosed.
/// </summary>
public sealed class FrameSyncMetrics : IDisposable
{
    private readonly Meter _meter = new(NodeMetrics.MeterName);
    private readonly KeyValuePair<string, object?>[] _tags;
    private readonly Counter<long> _failures;
    private long _offset = long.MinValue;
    private long _pilotErrorRateBits = BitConverter.DoubleToInt64Bits(double.NaN);

    public FrameSyncMetrics(string linkId, string role)
    {
        _tags = [new("link", linkId), new("role", role)];
        _failures = _meter.CreateCounter<long>("qkd.node.frame_sync.failures", "{session}", "Sessions whose frame synchronisation found no offset (no key)");
        _meter.CreateObservableGauge("qkd.node.frame_sync.offset", ObserveOffset, "{pulse}",
            "Bob's pulse count minus Alice's pulse index found against the pilot in the last session (lost syncs, fibre delay)");
        _meter.CreateObservableGauge("qkd.node.frame_sync.pilot_error_rate", ObservePilotErrorRate, "1",
            "Error rate of the sifted pilot detections at the offset found in the last session");
    }

    public void Synchronised(FrameSyncResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.Offset is not long offset)
        {
            _failures.Add(1, _tags);
            return;
        }
        Interlocked.Exchange(ref _offset, offset);
        Interlocked.Exchange(ref _pilotErrorRateBits, BitConverter.DoubleToInt64Bits(result.PilotErrorRate));
    }

    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<long>> ObserveOffset()
    {
        long offset = Interlocked.Read(ref _offset);
        return offset == long.MinValue ? [] : [new Measurement<long>(offset, _tags)];
    }

    private IEnumerable<Measurement<double>> ObservePilotErrorRate()
    {
        double rate = BitConverter.Int64BitsToDouble(Interlocked.Read(ref _pilotErrorRateBits));
        return double.IsNaN(rate) ? [] : [new Measurement<double>(rate, _tags)];
    }
}
