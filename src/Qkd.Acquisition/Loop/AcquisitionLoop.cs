using Qkd.Core.Rings;
using Qkd.Core.TimeTags;

namespace Qkd.Acquisition.Loop;

/// <summary>State of an <see cref="AcquisitionLoop"/>.</summary>
public enum AcquisitionState
{
    Created,
    Running,
    Paused,
    /// <summary>The source's device went away; the loop retries the source every <see cref="AcquisitionLoopOptions.ReconnectInterval"/>.</summary>
    Disconnected,
    /// <summary>The source ended, or <see cref="AcquisitionLoop.Stop"/> was called; the ring is completed.</summary>
    Stopped,
    /// <summary>The source failed; <see cref="AcquisitionLoop.Completion"/> carries the exception; the ring is completed.</summary>
    Faulted,
}

/// <summary>
/// Drains one time tagger into a ring on a dedicated thread (optionally pinned, above normal priority): read a batch
/// from the source, count it, write it to the ring under the ring's overflow policy, repeat. Pausing and stopping act
/// between batches, so every tag read from the source is either in the ring or counted as dropped: none is lost
/// silently and none is written twice.
/// </summary>
public sealed class AcquisitionLoop : IDisposable
{
    private readonly ITimeTagSource _source;
    private readonly SpscRing<TimeTag> _ring;
    private readonly AcquisitionLoopOptions _options;
    private readonly CancellationTokenSource _stopReading = new();
    private readonly CancellationTokenSource _abort = new();
    private readonly ManualResetEventSlim _resume = new(initialState: true);
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _parked = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Thread _thread;
    private volatile bool _pauseRequested;
    private int _state = (int)AcquisitionState.Created;

    public AcquisitionLoop(ITimeTagSource source, SpscRing<TimeTag> ring, AcquisitionLoopOptions? options = null)
    {
        _source = source ?? throw new ArgumentNullException(nameof(source));
        _ring = ring ?? throw new ArgumentNullException(nameof(ring));
        _options = options ?? new AcquisitionLoopOptions();
        _options.Validate();
        _thread = new Thread(Run)
        {
            IsBackground = true,
            Name = $"acquisition: {source.Name}",
            Priority = _options.AboveNormalPriority ? ThreadPriority.AboveNormal : ThreadPriority.Normal,
        };
    }

    public AcquisitionCounters Counters { get; } = new();

    public AcquisitionState State => (AcquisitionState)Volatile.Read(ref _state);

    /// <summary>Why pinning was not applied (null when pinned or not requested).</summary>
    public string? PinningProblem { get; private set; }

    /// <summary>Completes when the loop has stopped (source ended or <see cref="Stop"/>); faults with the source's exception.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Raised on the loop thread when the source reports its device gone (once per outage).</summary>
    public event Action<TimeTagSourceDisconnectedException>? SourceDisconnected;

    /// <summary>Raised on the loop thread when the source delivers tags again after an outage.</summary>
    public event Action? SourceReconnected;

    public void Start()
    {
        if (Interlocked.CompareExchange(ref _state, (int)AcquisitionState.Running, (int)AcquisitionState.Created) != (int)AcquisitionState.Created)
            throw new InvalidOperationException($"Acquisition from {_source.Name} was already started (state {State}).");
        _thread.Start();
    }

    /// <summary>
    /// Stops reading after the batch in hand (which is still written to the ring) and parks the thread. The returned
    /// task completes once the loop is parked. Tags arriving meanwhile wait in the source.
    /// </summary>
    public Task PauseAsync()
    {
        if (State is AcquisitionState.Stopped or AcquisitionState.Faulted) return Task.CompletedTask;
        Volatile.Write(ref _parked, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        _pauseRequested = true;
        _resume.Reset();
        return Task.WhenAny(_parked.Task, Completion);
    }

    public void Resume()
    {
        _pauseRequested = false;
        _resume.Set();
    }

    /// <summary>
    /// Stops reading the source; the batch in hand is still written (waiting for ring space under back-pressure), then
    /// the ring is completed. Await <see cref="Completion"/> for the end.
    /// </summary>
    public void Stop()
    {
        _stopReading.Cancel();
        _resume.Set();
    }

    private void Run()
    {
        if (_options.PinToCpu is int cpu) PinningProblem = ThreadAffinity.PinCurrentThread(cpu);
        var buffer = new TimeTag[_options.BatchSize];
        try
        {
            while (!_stopReading.IsCancellationRequested)
            {
                if (_pauseRequested)
                {
                    Volatile.Write(ref _state, (int)AcquisitionState.Paused);
                    Volatile.Read(ref _parked).TrySetResult();
                    _resume.Wait();
                    if (_stopReading.IsCancellationRequested) break;
                    Volatile.Write(ref _state, (int)AcquisitionState.Running);
                }
                int n;
                try
                {
                    n = _source.Read(buffer, _stopReading.Token);
                }
                catch (OperationCanceledException) when (_stopReading.IsCancellationRequested)
                {
                    break;
                }
                catch (TimeTagSourceDisconnectedException e)
                {
                    // Not the end of the stream: the device was unplugged or its link dropped. Say so, then keep asking
                    // the source, which reconnects when the device is back and marks the gap in the tag stream.
                    bool first = State != AcquisitionState.Disconnected;
                    Volatile.Write(ref _state, (int)AcquisitionState.Disconnected);
                    if (first)
                    {
                        Counters.CountDisconnect();
                        SourceDisconnected?.Invoke(e);
                    }
                    _stopReading.Token.WaitHandle.WaitOne(_options.ReconnectInterval);
                    continue;
                }
                if (State == AcquisitionState.Disconnected)
                {
                    Volatile.Write(ref _state, (int)AcquisitionState.Running);
                    SourceReconnected?.Invoke();
                }
                if (n == 0) break;
                var batch = buffer.AsSpan(0, n);
                Counters.CountBatch(batch);
                int written = _ring.Write(batch, _abort.Token);
                if (written < n)
                {
                    // Drop-newest: the ring counted them too; abort under back-pressure: they never reach the consumer.
                    Counters.CountDropped(n - written);
                }
            }
            Volatile.Write(ref _state, (int)AcquisitionState.Stopped);
            _ring.Complete();
            _completion.TrySetResult();
        }
        catch (Exception e)
        {
            Volatile.Write(ref _state, (int)AcquisitionState.Faulted);
            _ring.Complete();
            _completion.TrySetException(e);
        }
        finally
        {
            Volatile.Read(ref _parked).TrySetResult();
        }
    }

    /// <summary>Stops the loop and abandons any write still waiting for ring space (those tags are counted as dropped).</summary>
    public void Dispose()
    {
        Stop();
        _abort.Cancel();
        if (_thread.IsAlive) _thread.Join();
        _resume.Dispose();
        _stopReading.Dispose();
        _abort.Dispose();
    }
}
