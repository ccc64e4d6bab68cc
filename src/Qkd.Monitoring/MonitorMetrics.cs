using System.Diagnostics.Metrics;
using Qkd.Core;

namespace Qkd.Monitoring;

/// <summary>
/// The monitor's instruments (meter "Qkd.Monitoring"), tagged with the link and the role like the node's: the last
/// block's estimates as gauges (qkd.monitor.transmittance, qkd.monitor.loss, qkd.monitor.qber{basis},
/// qkd.monitor.vacuum_yield, qkd.monitor.off_gate_probability, qkd.monitor.in_gate_share, qkd.monitor.detector_share{detector}),
/// alarms raised now per kind (qkd.monitor.alarms_active{kind}, every kind reported, 0 included), alarms raised so far
/// per kind (qkd.monitor.alarms_raised{kind}), whether key is held (qkd.monitor.key_held) and blocks whose key was
/// withheld (qkd.monitor.blocks_withheld). Gauges are read only when a listener collects.
/// </summary>
public sealed class MonitorMetrics : IDisposable
{
    public const string MeterName = "Qkd.Monitoring";

    private readonly Meter _meter = new(MeterName);
    private readonly KeyValuePair<string, object?>[] _tags;
    private readonly KeyValuePair<string, object?>[][] _kindTags;
    private readonly KeyValuePair<string, object?>[][] _basisTags;
    private readonly Counter<long> _raised, _withheld;
    private readonly LinkMonitor _monitor;

    public MonitorMetrics(LinkMonitor monitor, string linkId, string role)
    {
        _monitor = monitor;
        _tags = [new("link", linkId), new("role", role)];
        _kindTags = Enum.GetValues<AlarmKind>().Select(k => With("kind", KindName(k))).ToArray();
        _basisTags = [With("basis", "Z"), With("basis", "X")];
        _raised = _meter.CreateCounter<long>("qkd.monitor.alarms_raised", "{alarm}", "Link monitor alarms raised, by kind");
        _withheld = _meter.CreateCounter<long>("qkd.monitor.blocks_withheld", "{block}",
            "Distilled blocks whose key was discarded at both ends because an alarm that threatens security was raised");
        _meter.CreateObservableGauge("qkd.monitor.alarms_active", ObserveActive, "{alarm}", "Link monitor alarms raised now, by kind");
        _meter.CreateObservableGauge("qkd.monitor.key_held", () => new Measurement<int>(monitor.Board.HoldsKey ? 1 : 0, _tags), "1",
            "1 while an alarm that threatens security holds key generation");
        _meter.CreateObservableGauge("qkd.monitor.transmittance", () => Gauge(e => e.Transmittance), "1",
            "End-to-end transmittance from the last block's signal gain (decoy-state, background removed)");
        _meter.CreateObservableGauge("qkd.monitor.loss", () => Gauge(e => e.LossDb), "dB", "-10 log10 of the transmittance, last block");
        _meter.CreateObservableGauge("qkd.monitor.qber", ObserveQber, "1", "QBER of the last block per basis");
        _meter.CreateObservableGauge("qkd.monitor.vacuum_yield", () => Gauge(e => e.BackgroundYield), "1",
            "Clicks per vacuum pulse (dark counts, afterpulses, background), last block");
        _meter.CreateObservableGauge("qkd.monitor.off_gate_probability", () => Gauge(e => e.OffGateProbability), "1",
            "Detector tags outside every gate per pulse slot, last block");
        _meter.CreateObservableGauge("qkd.monitor.in_gate_share", () => Gauge(e => e.InGateShare), "1", "Share of detector tags inside the gate, last block");
        _meter.CreateObservableGauge("qkd.monitor.detector_share", ObserveShares, "1", "Each detector's share of the clicks, last block");
        monitor.Board.Changed += change =>
        {
            if (change.Raised) _raised.Add(1, _kindTags[(int)change.Alarm.Kind]);
        };
    }

    /// <summary>A block whose key was withheld while key generation was held.</summary>
    public void BlockWithheld() => _withheld.Add(1, _tags);

    public void Dispose() => _meter.Dispose();

    /// <summary>The label value of a kind: snake case ("loss_step", "qber_rise").</summary>
    public static string KindName(AlarmKind kind) => string.Concat(kind.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    private IEnumerable<Measurement<int>> ObserveActive()
    {
        var current = _monitor.Board.Current;
        foreach (var kind in Enum.GetValues<AlarmKind>())
            yield return new Measurement<int>(current.Count(a => a.Kind == kind), _kindTags[(int)kind]);
    }

    private IEnumerable<Measurement<double>> Gauge(Func<LinkEstimates, double?> pick) =>
        _monitor.Latest is { } latest && pick(latest) is double value && double.IsFinite(value) ? [new Measurement<double>(value, _tags)] : [];

    private IEnumerable<Measurement<double>> ObserveQber()
    {
        if (_monitor.Latest is not { } latest) yield break;
        if (latest.QberZ is double z) yield return new Measurement<double>(z, _basisTags[(int)Basis.Z]);
        if (latest.QberX is double x) yield return new Measurement<double>(x, _basisTags[(int)Basis.X]);
    }

    private IEnumerable<Measurement<double>> ObserveShares()
    {
        if (_monitor.Latest?.DetectorShares is not { } shares) yield break;
        for (int d = 0; d < shares.Length; d++)
            yield return new Measurement<double>(shares[d], With("detector", d.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    private KeyValuePair<string, object?>[] With(string key, string value) => [.. _tags, new(key, value)];
}
