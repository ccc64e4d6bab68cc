using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Qkd.Core.Random;
using Qkd.Hardware.Devices;
using Qkd.Protocol;

namespace Qkd.Hardware.RandomNumberGenerator;

/// <summary>
/// A node's QRNG as its <see cref="IEntropySource"/>: every draw of key material takes 32 bytes of the QRNG's checked
/// entropy (bytes every sample of which passed the driver's SP 800-90B section 4.4 tests while the source was healthy;
/// nothing unchecked ever) and mixes them with 32 fresh bytes of the OS CSPRNG (<see cref="EntropyMixer"/>, HKDF-SHA256),
/// so either source alone being good suffices.
/// </summary>
/// <remarks>
/// <para>Alarm. When the QRNG fails (a host health test trips, the device reports its own test failure or a source
/// fault, or the device disconnects) the source is unhealthy at once: it logs one error line naming the device and the
/// test or fault, counts qkd.rng.health_failures {device, test}, sets qkd.rng.healthy to 0, and refuses key material
/// (<see cref="EntropySourceUnavailableException"/>); a <see cref="Core.Symbols.RekeyedSymbolSource"/> keyed from it then
/// refuses to emit, which stops key generation.</para>
/// <para>Recovery (the health monitor's rule, <see cref="EntropyHealthMonitor"/>). After a host test trips, both tests
/// restart and the QRNG must pass 16 whole adaptive-proportion windows of consecutive samples (16 384 bits by default)
/// before it is healthy again; the block in which that happens is not used. After a failure the device reports itself,
/// or a reconnect, the host's tests begin from start-up and need the same run once the device sends again. Only then
/// does this source log "healthy again", set qkd.rng.healthy to 1 and give key material: generation resumes.
/// <see cref="WaitUntilHealthyAsync"/> waits for that and, while the device is gone, tries to reconnect it every
/// reconnect interval.</para>
/// <para>Key material never reaches a log, a metric or an exception. Thread-safe.</para>
/// </remarks>
public sealed class QrngEntropySource : IEntropySource, IDisposable
{
    public static readonly TimeSpan DefaultReadTimeout = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan DefaultReconnectInterval = TimeSpan.FromSeconds(1);

    /// <summary>HKDF info of every draw (with the draw's counter): keeps these keys apart from any other use of the mixer.</summary>
    private static ReadOnlySpan<byte> Context => "QkdDriver node key material from QRNG"u8;

    private readonly IRandomNumberGenerator _qrng;
    private readonly ILogger _logger;
    private readonly EntropyMetrics? _metrics;
    private readonly IDisposable? _gauge;
    private readonly IDisposable[] _owned;
    private readonly TimeSpan _readTimeout;
    private readonly TimeSpan _reconnectInterval;
    private readonly object _gate = new();
    private EntropySourceHealth _health;
    private bool _disconnected;
    private bool _everHealthy;
    private string? _alarm = "start-up testing: no entropy has passed the health tests yet";
    private volatile bool _healthy;
    private TaskCompletionSource _healthySignal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _draws;
    private bool _disposed;

    /// <param name="qrng">The QRNG driver (connected and streaming by <see cref="Start"/>).</param>
    /// <param name="logger">Alarms and recoveries.</param>
    /// <param name="metrics">qkd.rng.* instruments; null: none.</param>
    /// <param name="readTimeout">Longest wait for 32 checked bytes (default 10 s): the QRNG is slower than it should be.</param>
    /// <param name="reconnectInterval">How often <see cref="WaitUntilHealthyAsync"/> tries a disconnected QRNG again (default 1 s).</param>
    /// <param name="owned">Disposed with this source, in order (the driver, an emulated device's cable and firmware).</param>
    public QrngEntropySource(IRandomNumberGenerator qrng, ILogger logger, EntropyMetrics? metrics = null, TimeSpan? readTimeout = null,
        TimeSpan? reconnectInterval = null, IReadOnlyList<IDisposable>? owned = null)
    {
        _qrng = qrng ?? throw new ArgumentNullException(nameof(qrng));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _metrics = metrics;
        _readTimeout = readTimeout ?? DefaultReadTimeout;
        _reconnectInterval = reconnectInterval ?? DefaultReconnectInterval;
        _owned = owned?.ToArray() ?? [];
        _health = qrng.Health;
        _qrng.HealthChanged += OnHealthChanged;
        _qrng.Disconnected += OnDisconnected;
        _qrng.Reconnected += OnReconnected;
        _gauge = metrics?.ObserveHealth(DeviceName, () => _healthy);
    }

    /// <summary>The QRNG's driver.</summary>
    public IRandomNumberGenerator Device => _qrng;

    /// <summary>The device as logs and the metrics' "device" tag name it.</summary>
    public string DeviceName => _qrng.Name;

    public string Description => $"{_qrng.Name} mixed with the OS CSPRNG";

    public bool IsHealthy => _healthy;

    public string? Alarm
    {
        get { lock (_gate) return _healthy ? null : $"{_qrng.Name}: {_alarm}"; }
    }

    /// <summary>Key material drawn so far (each draw used <see cref="EntropyMixer.SourceBytes"/> QRNG bytes).</summary>
    public long Draws => Interlocked.Read(ref _draws);

    /// <summary>Connects the QRNG if it is not, and starts its entropy stream (start-up testing begins).</summary>
    /// <exception cref="DeviceException">The QRNG cannot be reached; the message names it.</exception>
    public void Start()
    {
        if (_qrng.State != ConnectionState.Connected) _qrng.Connect();
        if (!_qrng.IsStreaming) _qrng.StartStream();
        OnHealthChanged(_qrng.Health);
    }

    /// <summary>Starts <paramref name="source"/> (<see cref="Start"/>) and returns it; disposes it when it cannot start.</summary>
    /// <exception cref="DeviceException">The QRNG cannot be reached; the message names it.</exception>
    public static QrngEntropySource Started(QrngEntropySource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        try
        {
            source.Start();
            return source;
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    public void FillKeyMaterial(Span<byte> destination)
    {
        if (destination.IsEmpty) return;
        destination.Clear();
        if (!_healthy) throw new EntropySourceUnavailableException(Description, "draw key material", Alarm);
        Span<byte> device = stackalloc byte[EntropyMixer.SourceBytes];
        try
        {
            try
            {
                using var timeout = new CancellationTokenSource(_readTimeout);
                _qrng.ReadEntropy(device, timeout.Token);
            }
            catch (EntropySourceFailedException e)
            {
                OnHealthChanged(e.Health); // the driver's event may still be on its way
                throw new EntropySourceUnavailableException(Description, "draw key material", e.Health.ToString(), e);
            }
            catch (DeviceDisconnectedException e)
            {
                OnDisconnected(e);
                throw new EntropySourceUnavailableException(Description, "draw key material", "the device is disconnected", e);
            }
            catch (OperationCanceledException e)
            {
                throw new EntropySourceUnavailableException(Description, "draw key material",
                    $"no checked entropy within {_readTimeout.TotalSeconds:0.#} s (the device streams too slowly or has stopped)", e);
            }
            catch (Exception e) when (e is DeviceException or InvalidOperationException)
            {
                throw new EntropySourceUnavailableException(Description, "draw key material", e.Message, e);
            }
            ulong counter = (ulong)Interlocked.Increment(ref _draws);
            EntropyMixer.MixWithOperatingSystem(device, Context, counter, destination);
            _metrics?.EntropyUsed(DeviceName, device.Length);
        }
        catch
        {
            CryptographicOperations.ZeroMemory(destination);
            throw;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(device);
        }
    }

    public async Task WaitUntilHealthyAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Task healthy;
            bool disconnected;
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (_healthy) return;
                healthy = _healthySignal.Task;
                disconnected = _disconnected || _qrng.State == ConnectionState.Disconnected;
            }
            if (disconnected)
            {
                try
                {
                    _qrng.Reconnect(); // restarts the stream; Reconnected and the health events follow
                }
                catch (DeviceException e)
                {
                    _logger.LogDebug("QRNG {Device} still unreachable: {Error}", DeviceName, e.Message);
                }
                await Task.WhenAny(healthy, Task.Delay(_reconnectInterval, cancellationToken)).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                continue;
            }
            await healthy.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    // ---- Driver events (short; never call the device) ---------------------------------------------------------------

    private void OnHealthChanged(EntropySourceHealth health)
    {
        string? failedTest = null;
        bool resumed, again;
        lock (_gate)
        {
            if (_disposed) return;
            bool wasFailed = _health.State == EntropyHealthState.Failed;
            bool wasHealthy = _healthy;
            _health = health;
            if (health.State == EntropyHealthState.Failed && !wasFailed) failedTest = TestOf(health);
            Update();
            resumed = _healthy && !wasHealthy;
            again = _everHealthy;
            _everHealthy |= resumed;
        }
        if (failedTest is not null)
        {
            _metrics?.HealthFailure(DeviceName, failedTest);
            _logger.LogError("QRNG alarm: {Device} failed {Test} ({Health}); key generation stopped until it passes its health tests again",
                DeviceName, failedTest, health);
        }
        if (resumed)
            _logger.LogInformation(again
                ? "QRNG {Device} is healthy again ({Samples:N0} consecutive samples passed both health tests): key generation may resume"
                : "QRNG {Device} passed start-up testing ({Samples:N0} consecutive samples passed both health tests): key generation may start",
                DeviceName, _qrng.HealthOptions.RecoverySamples);
    }

    private void OnDisconnected(DeviceDisconnectedException cause)
    {
        lock (_gate)
        {
            if (_disposed || _disconnected) return;
            _disconnected = true;
            Update();
        }
        _metrics?.HealthFailure(DeviceName, "disconnected");
        _logger.LogError("QRNG alarm: {Device} disconnected ({Error}); key generation stopped until it is back and passes its health tests",
            DeviceName, cause.Message);
    }

    private void OnReconnected()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disconnected = false;
        }
        // The driver has restarted the stream and its tests by now: start-up testing.
        OnHealthChanged(_qrng.Health);
        _logger.LogInformation("QRNG {Device} reconnected; start-up testing before its entropy is used", DeviceName);
    }

    /// <summary>Recomputes the health, the alarm and the waiters' signal. Under the gate.</summary>
    private void Update()
    {
        bool healthy = !_disconnected && _health.IsHealthy;
        _alarm = _disconnected ? "the device is disconnected"
            : _health.State == EntropyHealthState.Starting ? "start-up testing: not enough consecutive samples have passed the health tests yet"
            : _health.State == EntropyHealthState.Failed ? _health.ToString()
            : null;
        if (healthy == _healthy) return;
        _healthy = healthy;
        if (healthy) _healthySignal.TrySetResult();
        else _healthySignal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>The metrics' "test" tag of a failure.</summary>
    private static string TestOf(EntropySourceHealth health) => health.TestFailure?.Test switch
    {
        HealthTest.RepetitionCount => "repetition_count",
        HealthTest.AdaptiveProportion => "adaptive_proportion",
        _ when (health.DeviceFlags & Protocol.Messages.RngHealthFlags.SourceFault) != 0 => "device_source_fault",
        _ => "device_continuous_test",
    };

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _healthy = false;
            _healthySignal.TrySetException(new ObjectDisposedException(nameof(QrngEntropySource)));
        }
        _qrng.HealthChanged -= OnHealthChanged;
        _qrng.Disconnected -= OnDisconnected;
        _qrng.Reconnected -= OnReconnected;
        _gauge?.Dispose();
        try
        {
            if (_qrng.IsStreaming && _qrng.State == ConnectionState.Connected) _qrng.StopStream();
        }
        catch (DeviceException e)
        {
            _logger.LogWarning("Stopping the QRNG stream of {Device} failed: {Error}", DeviceName, e.Message);
        }
        foreach (IDisposable owned in _owned) owned.Dispose();
    }
}
