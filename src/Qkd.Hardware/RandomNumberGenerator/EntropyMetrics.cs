using Qkd.Hardware.RandomNumberGenerator;
using System.Diagnostics.Metrics;

namespace Qkd.Hardware.RandomNumberGenerator;

/// <summary>
/// The health of a node's QRNG as metrics, on the node's meter ("Qkd.Node", so the scrape endpoint serves them with the
/// rest): qkd.rng.health_failures (Prometheus qkd_rng_health_failures_total), by device and test (repetition_count,
/// adaptive_proportion, device_continuous_test, device_source_fault, disconnected); qkd.rng.healthy (qkd_rng_healthy),
/// 1 while the QRNG may key generators, else 0; and qkd.rng.entropy_bytes (qkd_rng_entropy_bytes_total), QRNG bytes
/// mixed into key material. Tagged with the link and the role like the node's other instruments; tag arrays are built
/// once per device and test.
/// </summary>
public sealed class EntropyMetrics : IDisposable
{
    /// <summary>The node's meter name: the scrape endpoint exports it already.</summary>
    public const string MeterName = "Qkd.Node"; // exported with the node's own instruments

    /// <summary>The "test" tag values.</summary>
    public static IReadOnlyList<string> Tests { get; } =
        ["repetition_count", "adaptive_proportion", "device_continuous_test", "device_source_fault", "disconnected"];

    private readonly Meter _meter = new(MeterName);
    private readonly KeyValuePair<string, object?>[] _tags;
    private readonly Counter<long> _failures, _bytes;
    private readonly object _gate = new();
    private readonly Dictionary<(string Device, string Test), KeyValuePair<string, object?>[]> _failureTags = new();
    private readonly Dictionary<string, KeyValuePair<string, object?>[]> _deviceTags = new();
    private readonly Dictionary<string, Func<bool>> _healthy = new();

    public EntropyMetrics(string linkId, string role)
    {
        _tags = [new("link", linkId), new("role", role)];
        _failures = _meter.CreateCounter<long>("qkd.rng.health_failures", "{failure}",
            "QRNG health alarms by device and test (SP 800-90B 4.4 host tests, the device's own flags, disconnects); key generation stops on each");
        _bytes = _meter.CreateCounter<long>("qkd.rng.entropy_bytes", "{byte}", "Checked QRNG bytes mixed with the OS CSPRNG into key material");
        _meter.CreateObservableGauge("qkd.rng.healthy", ObserveHealthy, "1", "1 while the QRNG passes its health tests and may key generators, else 0");
    }

    /// <summary>A health alarm of <paramref name="device"/>: <paramref name="test"/> is one of <see cref="Tests"/>.</summary>
    public void HealthFailure(string device, string test) => _failures.Add(1, FailureTags(device, test));

    public void EntropyUsed(string device, int bytes) => _bytes.Add(bytes, DeviceTags(device));

    /// <summary>Exports <paramref name="healthy"/> as the device's qkd.rng.healthy until the returned handle is disposed.</summary>
    public IDisposable ObserveHealth(string device, Func<bool> healthy)
    {
        lock (_gate) _healthy[device] = healthy;
        return new Detach(() =>
        {
            lock (_gate) _healthy.Remove(device);
        });
    }

    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<int>> ObserveHealthy()
    {
        lock (_gate) return _healthy.Select(p => new Measurement<int>(p.Value() ? 1 : 0, DeviceTags(p.Key))).ToList();
    }

    private KeyValuePair<string, object?>[] DeviceTags(string device)
    {
        lock (_gate)
        {
            if (!_deviceTags.TryGetValue(device, out var tags)) _deviceTags[device] = tags = [.. _tags, new("device", device)];
            return tags;
        }
    }

    private KeyValuePair<string, object?>[] FailureTags(string device, string test)
    {
        lock (_gate)
        {
            if (!_failureTags.TryGetValue((device, test), out var tags))
                _failureTags[(device, test)] = tags = [.. _tags, new("device", device), new("test", test)];
            return tags;
        }
    }

    private sealed class Detach(Action action) : IDisposable
    {
        private Action? _action = action;

        public void Dispose() => Interlocked.Exchange(ref _action, null)?.Invoke();
    }
}
