using Qkd.Protocol;
using Qkd.Protocol.Messages;

namespace Qkd.Emulation.Firmware;

/// <summary>
/// A firmware that streams data on its own thread between a start and a stop request (the time tagger's tags, the
/// random number generator's entropy). This class owns what every such stream has in common: whether one is running,
/// its generation, the stream lock, the streaming thread and its shutdown, and what a plug, an unplug and disposal do
/// to the stream. The subclass owns its counters, pacing and payload.
/// </summary>
/// <remarks>
/// <para>Lock order: <see cref="FirmwareHost.DeviceLock"/>, then <see cref="FirmwareHost.OutputLock"/>, then
/// <see cref="StreamGate"/>. Starting and stopping switch the stream under the output lock and the stream lock, so the
/// switch is atomic with a frame being written: nothing of an earlier stream is written after it.</para>
/// <para>The generation changes whenever a stream starts or ends, so the streaming thread can tell that what it made
/// belongs to a stream that is over. The stream lock is also what the streaming thread waits on: start, stop, plug and
/// disposal pulse it.</para>
/// </remarks>
public abstract class StreamingFirmwareHost : FirmwareHost
{
    private readonly CancellationTokenSource _shutdown = new();
    private Thread? _worker;
    private bool _running;
    private int _generation;

    protected StreamingFirmwareHost(DeviceClass deviceClass, int channelCount, string serialNumber, IDeviceClock? clock)
        : base(deviceClass, channelCount, serialNumber, clock)
    {
    }

    /// <summary>The stream lock: guards the stream state of this class and of the subclass; innermost of the three.</summary>
    protected object StreamGate { get; } = new();

    public bool IsStreaming
    {
        get { lock (StreamGate) return _running; }
    }

    /// <summary>The current stream's generation. Under <see cref="StreamGate"/>.</summary>
    protected int StreamGeneration => _generation;

    /// <summary>The streaming thread's body; returns at shutdown (<paramref name="token"/> cancelled).</summary>
    protected abstract void RunStream(CancellationToken token);

    /// <summary>What the stop request answers with. Under <see cref="StreamGate"/>, after the stream has ended.</summary>
    protected abstract StreamSummary SummarizeStream();

    /// <summary>
    /// A new stream begins: a new generation, running. Under the output lock and <see cref="StreamGate"/>; a subclass
    /// extends it to reset its per-stream counters (sequence numbers from 0).
    /// </summary>
    protected virtual void BeginStream()
    {
        _generation++;
        _running = true;
    }

    /// <summary>
    /// The current stream ends: nothing more of it may be written. Under the output lock and <see cref="StreamGate"/>;
    /// the caller clears the Running flag.
    /// </summary>
    protected void EndStream()
    {
        _running = false;
        _generation++;
    }

    /// <summary>Starts (or restarts) the stream. Under the device lock (request dispatch).</summary>
    protected void StartStream()
    {
        lock (OutputLock)
        {
            lock (StreamGate)
            {
                BeginStream();
                Monitor.PulseAll(StreamGate);
            }
        }
        ChangeFlags(StatusFlags.Running);
        OnStreamingChanged(true);
        if (_worker is null)
        {
            _worker = new Thread(() => RunStream(_shutdown.Token)) { IsBackground = true, Name = $"{Describe()} stream" };
            _worker.Start();
        }
    }

    /// <summary>Stops the stream and answers with its summary. Under the device lock (request dispatch).</summary>
    protected FirmwareReply StopStream()
    {
        StreamSummary summary;
        // Under the output lock: no frame of this stream can be written after the response, which follows.
        lock (OutputLock)
        {
            lock (StreamGate)
            {
                if (_running) EndStream();
                summary = SummarizeStream();
            }
        }
        ChangeFlags(StatusFlags.None, StatusFlags.Running);
        OnStreamingChanged(false);
        return FirmwareReply.Ok(summary.ToPayload());
    }

    /// <summary>The stream started (true) or stopped (false), by the host or the device. Under the device lock.</summary>
    protected virtual void OnStreamingChanged(bool running)
    {
    }

    /// <summary>
    /// The device ends a running stream by itself (unplugged, end of its source) and reports it with StatusChanged
    /// (Running cleared). Takes the device lock.
    /// </summary>
    protected void EndStreamByDevice()
    {
        lock (DeviceLock)
        {
            lock (OutputLock)
            {
                lock (StreamGate)
                {
                    if (!_running) return;
                    EndStream();
                }
            }
            ChangeFlags(StatusFlags.None, StatusFlags.Running);
            OnStreamingChanged(false);
        }
    }

    /// <summary>The streaming thread is ending (a fault): the next start gets a fresh thread. Under the device lock.</summary>
    protected void ForgetWorker() => _worker = null;

    /// <summary>Blocks until a stream is running; returns its generation, or -1 at shutdown.</summary>
    protected int WaitUntilRunning(CancellationToken token)
    {
        lock (StreamGate)
        {
            while (!_running)
            {
                if (token.IsCancellationRequested) return -1;
                Monitor.Wait(StreamGate);
            }
            return _generation;
        }
    }

    /// <summary>A plugged device resumes: wakes the streaming thread, which waits while the output is closed.</summary>
    protected override void OnPlugged()
    {
        lock (StreamGate) Monitor.PulseAll(StreamGate);
    }

    /// <summary>Like a USB re-enumeration, unplugging ends the stream; the host starts a new one after reconnecting.</summary>
    protected override void OnUnplugged() => EndStreamByDevice();

    protected override void OnDisposing()
    {
        _shutdown.Cancel();
        lock (StreamGate) Monitor.PulseAll(StreamGate);
        // Not when disposed on the streaming thread itself: it would wait for itself.
        if (_worker is { } worker && worker.ManagedThreadId != Environment.CurrentManagedThreadId) worker.Join(TimeSpan.FromSeconds(10));
    }
}
