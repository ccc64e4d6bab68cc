using System.Security.Cryptography;
using Qkd.Core.Random;
using Qkd.Hardware.Devices;
using Qkd.Protocol;
using Qkd.Protocol.Messages;
using Qkd.Protocol.Transport;

namespace Qkd.Hardware.RandomNumberGenerator;

/// <summary>
/// <see cref="IRandomNumberGenerator"/> over the wire protocol (firmware-protocols/random-number-generator.md). The
/// connection's reader thread takes each RngEntropyData block, checks that it follows the previous one (sequence number
/// and offset), runs the host's SP 800-90B section 4.4 tests (<see cref="EntropyHealthMonitor"/>) on every sample of it,
/// and keeps the bytes only if the source was healthy before and throughout the block; callers take them with
/// <see cref="ReadEntropy"/>, copied straight into their span.
/// </summary>
/// <remarks>
/// <para>Health. The state is the host monitor's (Starting, Healthy, Failed), except that it is Failed whenever the
/// device itself reports a failure (its own tests or a source fault: it then sends nothing). The recovery rule is the
/// monitor's: after a failure, 16 windows of consecutive samples (by default; <see cref="EntropyHealthOptions"/>) must
/// pass both tests before entropy flows again, and the block in which that happens is not used. A failure reported by
/// the device restarts the host's tests from start-up. When a test trips, the checked entropy the driver still holds is
/// discarded too (it shares the failing window's history), and a read in progress throws with its span zeroed; entropy
/// already handed out passed every test while the source was healthy.</para>
/// <para>Gaps. A jump in the sequence numbers is blocks lost on the line (<see cref="RandomNumberGeneratorCounters.BlocksLost"/>),
/// a jump in the offset alone is data the device withheld; either way the samples on both sides are not consecutive,
/// so the tests start a new run and a new window there (<see cref="EntropyHealthMonitor.Discontinuity"/>).</para>
/// <para>Buffer. Checked entropy waits in a buffer of <c>bufferBytes</c>; when nobody reads, what does not fit is
/// dropped and counted (fresh entropy is as good as old, and the reader thread must never block: it also carries the
/// replies to requests). Every block is tested as it arrives, read or not, so the health state is always current.</para>
/// <para>Threads. Any thread may call <see cref="ReadEntropy"/>; <see cref="HealthChanged"/> is raised in order, on the
/// reader thread or on the thread whose request changed the state: handlers must be short and must not call the device
/// (its replies arrive on the reader thread). <see cref="WaitForHealthAsync"/> completes off that thread.</para>
/// </remarks>
public sealed class ProtocolRandomNumberGenerator : ProtocolDevice, IRandomNumberGenerator
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    // Guards the stream, the monitor, the buffer and the health; ReadEntropy waits on it. Never held while raising events.
    private readonly object _gate = new();
    // Serialises HealthChanged so that handlers see the changes in order; taken before _gate, never inside it.
    private readonly object _notifyGate = new();
    private readonly EntropyHealthMonitor _monitor;
    private readonly EntropyBuffer _buffer;
    private readonly EntropyBlockReceiver _receiver;
    private readonly Queue<EntropySourceHealth> _pendingNotifications = new();
    private EntropySourceHealth _health = new(EntropyHealthState.Starting, null, RngHealthFlags.None);
    private RngHealthFlags _deviceFlags;
    private long _deviceFlagEvents;
    private bool _streaming;
    private volatile bool _stopping;
    private bool _disconnected;
    private bool _disposed;
    private uint _expectedSequence;
    private long _expectedOffset;
    private StreamSummary _lastSummary;

    /// <param name="health">The claim the host's tests check (default: bits, H = 1, α = 2^−30: cutoffs 31 and 609).</param>
    /// <param name="bufferBytes">Checked entropy held for readers (at least 16 bytes).</param>
    public ProtocolRandomNumberGenerator(IDeviceConnector connector, EntropyHealthOptions? health = null, DeviceConnectionOptions? options = null,
        int bufferBytes = 1 << 20)
        : base(connector, DeviceClass.RandomNumberGenerator, options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferBytes, 16);
        HealthOptions = health ?? new EntropyHealthOptions();
        _monitor = new EntropyHealthMonitor(HealthOptions);
        _buffer = new EntropyBuffer(bufferBytes);
        _receiver = new EntropyBlockReceiver(this);
        EventReceived += OnEvent;
    }

    public EntropyHealthOptions HealthOptions { get; }

    public RandomNumberGeneratorCounters StreamCounters { get; } = new();

    public EntropySourceHealth Health
    {
        get { lock (_gate) return _health; }
    }

    public event Action<EntropySourceHealth>? HealthChanged;

    public bool IsStreaming
    {
        get { lock (_gate) return _streaming; }
    }

    /// <summary>Checked entropy waiting in the driver's buffer.</summary>
    public int Buffered
    {
        get { lock (_gate) return _buffer.Count; }
    }

    public override IReadOnlyDictionary<string, long> Counters
    {
        get
        {
            var counters = new Dictionary<string, long>(base.Counters);
            foreach (var (k, v) in StreamCounters.ToDictionary()) counters["stream." + k] = v;
            return counters;
        }
    }

    public int GetBlockSizeBytes() => checked((int)GetParameter(ParameterId.RngBlockSizeBytes));

    public void SetBlockSizeBytes(int bytes) => SetParameter(ParameterId.RngBlockSizeBytes, 0, bytes);

    public long GetRateLimitBytesPerSecond() => GetParameter(ParameterId.RngRateLimitBytesPerSecond);

    public void SetRateLimitBytesPerSecond(long bytesPerSecond) => SetParameter(ParameterId.RngRateLimitBytesPerSecond, 0, bytesPerSecond);

    public void SetDeviceHealthCutoffs(int repetitionCutoff, int proportionCutoff)
    {
        SetParameter(ParameterId.RngRepetitionCutoffSamples, 0, repetitionCutoff);
        SetParameter(ParameterId.RngProportionCutoffSamples, 0, proportionCutoff);
    }

    public RngHealthReport ReadDeviceHealth()
    {
        long eventsBefore;
        lock (_gate) eventsBefore = _deviceFlagEvents;
        byte[] reply = Connection.Request(MessageType.RngGetHealth, default, "read health");
        RngHealthReport report;
        try { report = RngHealthReport.Read(reply); }
        catch (PayloadFormatException e) { throw new DeviceException(Name, "read health", e.Message); }
        lock (_gate)
        {
            // An RngHealthChanged that arrived after this request was answered is newer than the reply.
            if (_deviceFlagEvents == eventsBefore) ApplyDeviceFlags(report.Flags);
        }
        Notify();
        return report;
    }

    public void StartStream()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_streaming) throw new InvalidOperationException($"{Name}: already streaming.");
        }
        ReadDeviceHealth();
        lock (_gate)
        {
            _streaming = true;
            _stopping = false;
            _expectedSequence = 0;
            _expectedOffset = 0;
            // A new stream's samples do not follow the last stream's: start-up testing again.
            _monitor.Restart();
            UpdateHealth();
        }
        Notify();
        try
        {
            Connection.Request(MessageType.RngStartStream, default, "start the entropy stream", idempotent: false);
        }
        catch
        {
            lock (_gate)
            {
                _streaming = false;
                Monitor.PulseAll(_gate);
            }
            throw;
        }
    }

    public StreamSummary StopStream()
    {
        lock (_gate)
        {
            if (!_streaming) return _lastSummary;
        }
        _stopping = true;
        try
        {
            // The reply comes after the stream's last block, so once it is here every block has been taken.
            byte[] reply = Connection.Request(MessageType.RngStopStream, default, "stop the entropy stream", idempotent: false, timeout: StopTimeout);
            try { _lastSummary = StreamSummary.Read(reply); }
            catch (PayloadFormatException e) { throw new DeviceException(Name, "stop the entropy stream", e.Message); }
            return _lastSummary;
        }
        finally
        {
            lock (_gate)
            {
                _streaming = false;
                Monitor.PulseAll(_gate);
            }
        }
    }

    public void ReadEntropy(Span<byte> destination, CancellationToken cancellationToken = default)
    {
        if (destination.IsEmpty) return;
        if (State == ConnectionState.Disconnected) Reconnect(); // throws while the device is still away
        using CancellationTokenRegistration wake = cancellationToken.CanBeCanceled ? cancellationToken.Register(WakeReaders) : default;
        int filled = 0;
        bool complete = false;
        lock (_gate)
        {
            try
            {
                while (filled < destination.Length)
                {
                    ObjectDisposedException.ThrowIf(_disposed, this);
                    if (_health.State == EntropyHealthState.Failed)
                        throw new EntropySourceFailedException(Name, "read entropy", _health);
                    int n = _buffer.Read(destination[filled..]);
                    if (n > 0)
                    {
                        filled += n;
                        continue;
                    }
                    if (_disconnected)
                        throw new DeviceDisconnectedException(Name, "read entropy", new EndOfStreamException("the device went away; reading again reconnects"));
                    if (!_streaming)
                        throw new InvalidOperationException($"{Name}: no entropy stream is running and {destination.Length - filled} of {destination.Length} bytes are missing; start the stream first.");
                    cancellationToken.ThrowIfCancellationRequested();
                    Monitor.Wait(_gate);
                }
                complete = true;
                Interlocked.Add(ref StreamCounters.BytesDelivered, filled);
            }
            finally
            {
                if (!complete && filled > 0)
                {
                    // All or nothing: a caller must never take part of a span for entropy.
                    CryptographicOperations.ZeroMemory(destination[..filled]);
                    Interlocked.Add(ref StreamCounters.BytesDiscarded, filled);
                }
            }
        }
    }

    public async Task<EntropySourceHealth> WaitForHealthAsync(EntropyHealthState state, CancellationToken cancellationToken = default)
    {
        var reached = new TaskCompletionSource<EntropySourceHealth>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChange(EntropySourceHealth health)
        {
            if (health.State == state) reached.TrySetResult(health);
        }
        HealthChanged += OnChange;
        try
        {
            EntropySourceHealth now = Health;
            if (now.State == state) return now;
            await using CancellationTokenRegistration registration = cancellationToken.Register(() => reached.TrySetCanceled(cancellationToken));
            return await reached.Task.ConfigureAwait(false);
        }
        finally
        {
            HealthChanged -= OnChange;
        }
    }

    protected override IStreamReceiver? StreamReceiver => _receiver;

    protected override void OnDisconnected(DeviceDisconnectedException cause)
    {
        lock (_gate)
        {
            _disconnected = true;
            Monitor.PulseAll(_gate);
        }
    }

    protected override void OnReconnected()
    {
        bool restart;
        lock (_gate)
        {
            _disconnected = false;
            restart = _streaming && !_stopping;
            if (restart)
            {
                // The new connection's stream does not continue the old one's samples.
                _expectedSequence = 0;
                _expectedOffset = 0;
                _monitor.Restart();
                UpdateHealth();
            }
        }
        Notify();
        if (!restart) return;
        ReadDeviceHealth();
        Connection.Request(MessageType.RngStartStream, default, "restart the entropy stream after reconnect", idempotent: false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            lock (_gate)
            {
                _disposed = true;
                _buffer.Clear();
                Monitor.PulseAll(_gate);
            }
        }
        base.Dispose(disposing);
    }

    // ---- Reader thread ---------------------------------------------------------------------------------------------

    private void OnStreamFrame(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        lock (_gate) TakeBlock(header, payload);
        Notify();
    }

    /// <summary>One stream frame: continuity, the host's tests, then the buffer. Under the gate.</summary>
    private void TakeBlock(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (header.Type != MessageType.RngEntropyData || !_streaming)
        {
            // A frame of another type, or of a stream nobody started (a device resuming by itself): not ours to use.
            Interlocked.Increment(ref StreamCounters.BlocksInvalid);
            return;
        }
        uint sequence = header.Sequence;
        // Sequence numbers wrap modulo 2^32 (framing.md section 4), which a fast source reaches in hours (4 KiB blocks
        // at 1 GB/s), so they are compared by their distance: up to 2^31 behind is a repeat, ahead is blocks lost.
        int distance = unchecked((int)(sequence - _expectedSequence));
        if (distance < 0)
        {
            Interlocked.Increment(ref StreamCounters.BlocksDuplicated);
            return;
        }
        bool gap = false;
        if (distance > 0)
        {
            Interlocked.Add(ref StreamCounters.BlocksLost, distance);
            gap = true;
        }
        _expectedSequence = unchecked(sequence + 1);

        long offset;
        ReadOnlySpan<byte> entropy;
        try
        {
            offset = EntropyBlockCodec.Read(payload, out entropy);
        }
        catch (PayloadFormatException)
        {
            Invalid();
            return;
        }
        if (_expectedOffset < 0)
        {
            gap = true; // after an invalid block nothing is known about what came between
        }
        else if (!gap)
        {
            if (offset < _expectedOffset)
            {
                Invalid(); // bytes the device already sent, or a corrupt offset: never use them
                return;
            }
            if (offset > _expectedOffset)
            {
                Interlocked.Add(ref StreamCounters.BytesWithheldByDevice, offset - _expectedOffset);
                gap = true;
            }
        }
        _expectedOffset = offset + entropy.Length;
        if (gap) _monitor.Discontinuity();
        Interlocked.Increment(ref StreamCounters.Blocks);
        Interlocked.Add(ref StreamCounters.BytesReceived, entropy.Length);

        if ((_deviceFlags & RngHealthReport.FailureFlags) != 0)
        {
            // The device says its source is failing: whatever it still sent is not tested, not used.
            Interlocked.Add(ref StreamCounters.BytesDiscarded, entropy.Length);
            return;
        }
        long repetitionBefore = _monitor.RepetitionCountFailures, proportionBefore = _monitor.AdaptiveProportionFailures;
        bool usable = _monitor.Test(entropy);
        long repetition = _monitor.RepetitionCountFailures - repetitionBefore, proportion = _monitor.AdaptiveProportionFailures - proportionBefore;
        if (repetition + proportion > 0)
        {
            Interlocked.Add(ref StreamCounters.RepetitionCountFailures, repetition);
            Interlocked.Add(ref StreamCounters.AdaptiveProportionFailures, proportion);
            Interlocked.Add(ref StreamCounters.BytesDiscarded, _buffer.Clear());
            // The monitor may have recovered within this block already (a big block, an early failure): the failure is
            // still reported first, and UpdateHealth below reports the recovery after it.
            if (_health.State != EntropyHealthState.Failed)
            {
                _health = new EntropySourceHealth(EntropyHealthState.Failed, _monitor.LastFailure, _deviceFlags);
                Enqueue(_health);
            }
        }
        if (usable)
        {
            int kept = _buffer.Write(entropy);
            Interlocked.Add(ref StreamCounters.BytesOverflowed, entropy.Length - kept);
            Monitor.PulseAll(_gate);
        }
        else
        {
            Interlocked.Add(ref StreamCounters.BytesDiscarded, entropy.Length);
        }
        UpdateHealth();

        void Invalid()
        {
            Interlocked.Increment(ref StreamCounters.BlocksInvalid);
            _expectedOffset = -1;
            _monitor.Discontinuity();
        }
    }

    private void OnEvent(DeviceEvent e)
    {
        if (e.Type != MessageType.RngHealthChanged) return;
        RngHealthReport report;
        try { report = RngHealthReport.Read(e.Payload); }
        catch (PayloadFormatException)
        {
            Interlocked.Increment(ref StreamCounters.BlocksInvalid);
            return;
        }
        lock (_gate)
        {
            _deviceFlagEvents++;
            ApplyDeviceFlags(report.Flags);
        }
        Notify();
    }

    // ---- Health (under the gate unless said otherwise) -------------------------------------------------------------

    private void ApplyDeviceFlags(RngHealthFlags flags)
    {
        bool wasFailing = (_deviceFlags & RngHealthReport.FailureFlags) != 0;
        bool failing = (flags & RngHealthReport.FailureFlags) != 0;
        _deviceFlags = flags;
        if (failing && !wasFailing)
        {
            Interlocked.Increment(ref StreamCounters.DeviceFailures);
            Interlocked.Add(ref StreamCounters.BytesDiscarded, _buffer.Clear());
            // When the device is healthy again its samples follow a failure: the host's tests begin from start-up.
            _monitor.Restart();
        }
        UpdateHealth();
    }

    /// <summary>Recomputes the health; a change of state or device flags is queued for <see cref="HealthChanged"/>.</summary>
    private void UpdateHealth()
    {
        bool deviceFailing = (_deviceFlags & RngHealthReport.FailureFlags) != 0;
        var health = new EntropySourceHealth(
            deviceFailing ? EntropyHealthState.Failed : _monitor.State,
            _monitor.State == EntropyHealthState.Failed ? _monitor.LastFailure : null,
            _deviceFlags);
        bool changed = health.State != _health.State || health.DeviceFlags != _health.DeviceFlags;
        _health = health;
        if (changed) Enqueue(health);
    }

    private void Enqueue(EntropySourceHealth health)
    {
        _pendingNotifications.Enqueue(health);
        Monitor.PulseAll(_gate); // a waiting reader must see a failure at once
    }

    /// <summary>Raises the queued health changes, in order. Outside the gate.</summary>
    private void Notify()
    {
        lock (_notifyGate)
        {
            while (true)
            {
                EntropySourceHealth? health;
                lock (_gate)
                {
                    if (!_pendingNotifications.TryDequeue(out health)) return;
                }
                HealthChanged?.Invoke(health);
            }
        }
    }

    private void WakeReaders()
    {
        lock (_gate) Monitor.PulseAll(_gate);
    }

    private sealed class EntropyBlockReceiver(ProtocolRandomNumberGenerator owner) : IStreamReceiver
    {
        public void OnStreamFrame(in FrameHeader header, ReadOnlySpan<byte> payload) => owner.OnStreamFrame(in header, payload);
    }
}
