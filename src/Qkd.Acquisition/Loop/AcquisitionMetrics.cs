using System.Diagnostics.Metrics;

namespace Qkd.Acquisition.Loop;

/// <summary>
/// Publishes an acquisition loop's counters through System.Diagnostics.Metrics (meter "Qkd.Acquisition"), so
/// dotnet-counters, OpenTelemetry or the node's own monitor can watch rates, drops, overflows and ring fill.
/// Observable instruments read the counters when a listener asks: nothing is done per tag.
/// </summary>
public sealed class AcquisitionMetrics : IDisposable
{
    public const string MeterName = "Qkd.Acquisition";

    private readonly Meter _meter;

    /// <param name="source">Names the tagger in every measurement (tag "source").</param>
    /// <param name="counters">The loop's counters.</param>
    /// <param name="ringFill">Current number of tags waiting in the one ring between the tagger and clock recovery, and its capacity
    /// (<see cref="AcquisitionLoop.RingFill"/>, <see cref="AcquisitionLoop.RingCapacity"/>).</param>
    public AcquisitionMetrics(string source, AcquisitionCounters counters, Func<(long Fill, long Capacity)> ringFill, IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        var sourceTag = new KeyValuePair<string, object?>("source", source);

        _meter.CreateObservableCounter("qkd.acquisition.tags", () =>
        {
            var snapshot = counters.Snapshot();
            var measurements = new List<Measurement<long>>();
            for (int channel = 0; channel < snapshot.TagsPerChannel.Count; channel++)
                if (snapshot.TagsPerChannel[channel] != 0)
                    measurements.Add(new Measurement<long>(snapshot.TagsPerChannel[channel], sourceTag, new("channel", channel)));
            return measurements;
        }, unit: "{tag}", description: "Time tags read from the tagger, per channel.");
        _meter.CreateObservableCounter("qkd.acquisition.dropped", () => new Measurement<long>(counters.Snapshot().DroppedByRing, sourceTag),
            unit: "{tag}", description: "Tags the tagger delivered that never reached clock recovery: refused by the full ring (drop-newest) or abandoned when stopped.");
        _meter.CreateObservableCounter("qkd.acquisition.overflows", () => new Measurement<long>(counters.Snapshot().Overflows, sourceTag),
            unit: "{overflow}", description: "Overflow episodes reported by the tagger.");
        _meter.CreateObservableCounter("qkd.acquisition.missed", () => new Measurement<long>(counters.Snapshot().MissedEvents, sourceTag),
            unit: "{tag}", description: "Tags the tagger reported lost during overflows.");
        _meter.CreateObservableCounter("qkd.acquisition.disconnects", () => new Measurement<long>(counters.Snapshot().Disconnects, sourceTag),
            unit: "{outage}", description: "Times the tagger went away (unplugged, link down) and acquisition waited for it.");
        _meter.CreateObservableGauge("qkd.acquisition.ring.fill", () =>
        {
            var (fill, capacity) = ringFill();
            return new Measurement<double>(capacity == 0 ? 0 : (double)fill / capacity, sourceTag);
        }, unit: "1", description: "Fraction of the ring occupied.");
    }

    public void Dispose() => _meter.Dispose();
}
