using System.Diagnostics;
using Qkd.Core.Diagnostics;
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
/// Drains one time tagger into the one lock-free ring between it and clock recovery, on a thread dedicated to that
/// tagger, and counts what it sees and loses. Two ways, one contract for the consumer (<see cref="Read"/>):
/// <list type="bullet">
/// <item>A source that is read (a replayed file, the emulator's tagger, anything that is only an
/// <see cref="ITimeTagSource"/>): the loop's own thread (optionally pinned, above normal priority) reads a batch,
/// counts it, writes it to the loop's ring under the ring's overflow policy, and repeats; the consumer reads the ring.</item>
/// <item>A source that drains itself (<see cref="IBufferedTimeTagSource"/>: a tagger driver, whose connection reader
/// decodes TagData frames straight into its ring): that ring is the one ring, and its reader thread the acquisition
/// thread. The loop starts no thread and copies nothing: <see cref="Read"/> takes the tags out of the source's ring on
/// the consumer's thread and counts them there; what the source's ring refuses is counted by the source and shows in
/// <see cref="AcquisitionSnapshot.DroppedByRing"/>.</item>
/// </list>
/// Pausing and stopping act between batches, so every tag read from the source is either delivered or counted as
/// dropped: none is lost silently and none is delivered twice. Outages of the source's device are handled the same
/// way in both: counted once, announced, and the source asked again every
/// <see cref="AcquisitionLoopOptions.ReconnectInterval"/> (each ask reconnects).
/// </summary>
public sealed class AcquisitionLoop : IDisposable
{
    private readonly ITimeTagSource _source;
    private readonly SpscRing<TimeTag>? _ring;
    private readonly IBufferedTimeTagSource? _buffered;
    private readonly AcquisitionLoopOptions _options;
    private readonly CancellationTokenSource _stopReading = new();
    private readonly CancellationTokenSource _abort = new();
    private readonly ManualResetEventSlim _resume = new(initialState: true);
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _parked = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Thread? _thread;
    private volatile bool _pauseRequested;
    private int _state = (int)AcquisitionState.Created;
    // Buffered source: 1 while the consumer is inside Read (a pause completes once no read is in progress), and the
    // stop token linked with the consumer's token (made once per distinct token, so reading allocates nothing).
    private int _inRead;
    private CancellationToken _linkedFor;
    private CancellationTokenSource? _linked;

    /// <summary>A source that is read: the loop's own thread drains it into <paramref name="ring"/>, which the consumer reads.</summary>
    public AcquisitionLoop(ITimeTagSource source, SpscRing<TimeTag> ring, AcquisitionLoopOptions? options = null)
    {
        _source = source ?? throw new ArgumentNullException(nameof(source));
        _ring = ring ?? throw new ArgumentNullException(nameof(ring));
        _options = options ?? new AcquisitionLoopOptions();
        _options.Validate();
        Counters = new AcquisitionCounters();
        _thread = new Thread(Run)
        {
            IsBackground = true,
            Name = $"acquisition: {source.Name}",
            Priority = _options.AboveNormalPriority ? ThreadPriority.AboveNormal : ThreadPriority.Normal,
        };
    }

    /// <summary>
    /// A source that drains itself into its own ring on its own thread (a tagger driver): that ring is the one ring;
    /// <see cref="Read"/> takes tags out of it on the consumer's thread. The options' thread settings
    /// (<see cref="AcquisitionLoopOptions.PinToCpu"/>, <see cref="AcquisitionLoopOptions.AboveNormalPriority"/>) do not
    /// apply: the source's thread is its own.
    /// </summary>
    public AcquisitionLoop(IBufferedTimeTagSource source, AcquisitionLoopOptions? options = null)
    {
        _source = _buffered = source ?? throw new ArgumentNullException(nameof(source));
        _options = options ?? new AcquisitionLoopOptions();
        _options.Validate();
        Counters = new AcquisitionCounters(source);
        if (_options.PinToCpu is not null)
            PinningProblem = $"{source.Name} drains itself on its own thread: the loop has no thread to pin";
    }

    public AcquisitionCounters Counters { get; }

    public AcquisitionState State => (AcquisitionState)Volatile.Read(ref _state);

    /// <summary>True when the loop drains the source on a thread of its own (a source that is read); false for a buffered source.</summary>
    public bool HasOwnThread => _thread is not null;

    /// <summary>Tags waiting in the one ring (the loop's, or the buffered source's).</summary>
    public int RingFill => _ring?.Fill ?? _buffered!.Buffered;

    /// <summary>The most tags the one ring held at once, seen after each batch written into it (or before each read of a driver's ring).</summary>
    public int RingFillHighWater => Volatile.Read(ref _ringFillHighWater);

    private int _ringFillHighWater;

    /// <summary>Where the time spent reading batches from the source goes (the acquisition stage); null: not measured. Set before <see cref="Start"/>.</summary>
    public StageTimes? Stages { get; set; }

    private void NoteRingFill(int fill)
    {
        if (fill > _ringFillHighWater) Volatile.Write(ref _ringFillHighWater, fill);
    }

    /// <summary>Capacity of the one ring, tags.</summary>
    public int RingCapacity => _ring?.Capacity ?? _buffered!.BufferCapacity;

    /// <summary>Why pinning was not applied (null when pinned or not requested).</summary>
    public string? PinningProblem { get; private set; }

    /// <summary>Completes when the loop has stopped (source ended or <see cref="Stop"/>); faults with the source's exception.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Raised on the thread that reads the source when it reports its device gone (once per outage).</summary>
    public event Action<TimeTagSourceDisconnectedException>? SourceDisconnected;

    /// <summary>Raised on the thread that reads the source when it delivers tags again after an outage.</summary>
    public event Action? SourceReconnected;

    public void Start()
    {
        if (Interlocked.CompareExchange(ref _state, (int)AcquisitionState.Running, (int)AcquisitionState.Created) != (int)AcquisitionState.Created)
            throw new InvalidOperationException($"Acquisition from {_source.Name} was already started (state {State}).");
        _thread?.Start();
    }

    /// <summary>
    /// The consumer's side (one thread at a time): waits for tags and copies up to <paramref name="destination"/>.Length
    /// of them; returns 0 once the stream has ended (the source ended, <see cref="Stop"/>, or the source failed: then
    /// <see cref="Completion"/> carries the failure). Throws <see cref="OperationCanceledException"/> on cancellation;
    /// nothing is lost then.
    /// </summary>
    public int Read(Span<TimeTag> destination, CancellationToken cancellationToken = default)
    {
        if (_ring is not null) return _ring.Read(destination, cancellationToken);
        if (destination.IsEmpty)
            throw new ArgumentException("The destination must have room for at least one element.", nameof(destination));
        if (State == AcquisitionState.Created)
            throw new InvalidOperationException($"Start the acquisition from {_source.Name} before reading it.");
        if (State is AcquisitionState.Stopped or AcquisitionState.Faulted) return 0;
        Interlocked.Exchange(ref _inRead, 1);
        NoteRingFill(_buffered!.Buffered);
        try
        {
            int n = NextBatch(destination, ReadToken(cancellationToken), cancellationToken);
            if (n == 0) Finish(null);
            return n;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            Finish(e);
            return 0;
        }
        finally
        {
            Interlocked.Exchange(ref _inRead, 0);
            if (_pauseRequested) Volatile.Read(ref _parked).TrySetResult();
        }
    }

    /// <summary>
    /// The consumer's side without a copy, for a loop with its own thread (<see cref="HasOwnThread"/>): waits for tags
    /// and returns up to <paramref name="maxCount"/> of them in place in the ring (one contiguous stretch); empty once the
    /// stream has ended. The tags stay the consumer's until <see cref="ReleaseBatch"/>, which must come before the next
    /// call. Throws <see cref="OperationCanceledException"/> on cancellation; nothing is lost then.
    /// </summary>
    internal ReadOnlySpan<TimeTag> PeekBatch(int maxCount, CancellationToken cancellationToken = default)
    {
        var ring = _ring ?? throw new InvalidOperationException($"{_source.Name} drains itself into its own ring: read it with Read.");
        while (true)
        {
            bool completed = ring.IsCompleted; // before the cursor: a completed producer has published its last tag
            var batch = ring.Peek(maxCount);
            if (!batch.IsEmpty) return batch.First;
            if (completed) return [];
            ring.WaitToRead(cancellationToken);
        }
    }

    /// <summary>Hands the first <paramref name="count"/> tags of the last <see cref="PeekBatch"/> back to the acquisition thread.</summary>
    internal void ReleaseBatch(int count) => _ring!.Release(count);

    /// <summary>
    /// Stops reading after the batch in hand (which is still delivered) and parks. The returned task completes once the
    /// loop is parked (for a buffered source: once no read of it is in progress; reads then wait for
    /// <see cref="Resume"/>). Tags arriving meanwhile wait in the source.
    /// </summary>
    public Task PauseAsync()
    {
        if (State is AcquisitionState.Stopped or AcquisitionState.Faulted) return Task.CompletedTask;
        Volatile.Write(ref _parked, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        _resume.Reset();
        _pauseRequested = true;
        if (_thread is null)
        {
            Interlocked.MemoryBarrier(); // the request is visible before we look for a read in progress
            if (Volatile.Read(ref _inRead) == 0) Volatile.Read(ref _parked).TrySetResult();
        }
        return Task.WhenAny(_parked.Task, Completion);
    }

    public void Resume()
    {
        _pauseRequested = false;
        _resume.Set();
    }

    /// <summary>
    /// Stops reading the source; the batch in hand is still delivered (for the loop's own thread: written, waiting for
    /// ring space under back-pressure, then the ring is completed). Await <see cref="Completion"/> for the end.
    /// </summary>
    public void Stop()
    {
        _stopReading.Cancel();
        _resume.Set();
    }

    /// <summary>
    /// The next batch from the source, counted; 0 when the source has ended or reading was stopped. Parks while paused;
    /// rides out outages of the source's device. Runs on the one thread that reads the source.
    /// </summary>
    private int NextBatch(Span<TimeTag> buffer, CancellationToken readToken, CancellationToken consumerToken)
    {
        while (!_stopReading.IsCancellationRequested)
        {
            if (_pauseRequested)
            {
                Volatile.Write(ref _state, (int)AcquisitionState.Paused);
                Volatile.Read(ref _parked).TrySetResult();
                _resume.Wait(consumerToken);
                if (_stopReading.IsCancellationRequested) break;
                Volatile.Write(ref _state, (int)AcquisitionState.Running);
            }
            int n;
            long start = Stopwatch.GetTimestamp();
            try
            {
                n = _source.Read(buffer, readToken);
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
                if (consumerToken.CanBeCanceled)
                {
                    WaitHandle.WaitAny([_stopReading.Token.WaitHandle, consumerToken.WaitHandle], _options.ReconnectInterval);
                    consumerToken.ThrowIfCancellationRequested();
                }
                else
                    _stopReading.Token.WaitHandle.WaitOne(_options.ReconnectInterval);
                continue;
            }
            if (State == AcquisitionState.Disconnected)
            {
                Volatile.Write(ref _state, (int)AcquisitionState.Running);
                SourceReconnected?.Invoke();
            }
            if (n > 0) Counters.CountBatch(buffer[..n]);
            Stages?.AddSince(PipelineStage.Acquisition, start);
            return n;
        }
        return 0;
    }

    /// <summary>The token a buffered source is read with: stops on <see cref="Stop"/> and on the consumer's cancellation.</summary>
    private CancellationToken ReadToken(CancellationToken consumerToken)
    {
        if (!consumerToken.CanBeCanceled) return _stopReading.Token;
        if (_linked is null || consumerToken != _linkedFor)
        {
            _linked?.Dispose();
            _linked = CancellationTokenSource.CreateLinkedTokenSource(_stopReading.Token, consumerToken);
            _linkedFor = consumerToken;
        }
        return _linked.Token;
    }

    /// <summary>Buffered source: the stream ended (<paramref name="failure"/> null) or failed.</summary>
    private void Finish(Exception? failure)
    {
        if (failure is null)
        {
            Volatile.Write(ref _state, (int)AcquisitionState.Stopped);
            _completion.TrySetResult();
        }
        else
        {
            Volatile.Write(ref _state, (int)AcquisitionState.Faulted);
            _completion.TrySetException(failure);
        }
        Volatile.Read(ref _parked).TrySetResult();
    }

    /// <summary>The loop's own thread, for a source that is read.</summary>
    private void Run()
    {
        if (_options.PinToCpu is int cpu) PinningProblem = ThreadAffinity.PinCurrentThread(cpu);
        var ring = _ring!;
        // Under back-pressure the source reads straight into free slots of the ring (claimed, then published): a tag is
        // written once, by the source. Drop-newest needs the batch in hand to count what does not fit, so it copies.
        bool inPlace = ring.OverflowPolicy == OverflowPolicy.BackPressure;
        var buffer = inPlace ? [] : new TimeTag[_options.BatchSize];
        try
        {
            while (true)
            {
                if (inPlace)
                {
                    if (!ring.WaitToWrite(_abort.Token)) break;
                    var slots = ring.Claim(_options.BatchSize).First;
                    int read = NextBatch(slots, _stopReading.Token, CancellationToken.None);
                    if (read == 0) break;
                    ring.Publish(read);
                    NoteRingFill(ring.Fill);
                    continue;
                }
                int n = NextBatch(buffer, _stopReading.Token, CancellationToken.None);
                if (n == 0) break;
                var batch = buffer.AsSpan(0, n);
                int written = ring.Write(batch, _abort.Token);
                NoteRingFill(ring.Fill);
                if (written < n)
                {
                    // Drop-newest: the ring counted them too; abort under back-pressure: they never reach the consumer.
                    Counters.CountDropped(n - written);
                }
            }
            Volatile.Write(ref _state, (int)AcquisitionState.Stopped);
            ring.Complete();
            _completion.TrySetResult();
        }
        catch (Exception e)
        {
            Volatile.Write(ref _state, (int)AcquisitionState.Faulted);
            ring.Complete();
            _completion.TrySetException(e);
        }
        finally
        {
            Volatile.Read(ref _parked).TrySetResult();
        }
    }

    /// <summary>
    /// Stops the loop and abandons any write still waiting for ring space (those tags are counted as dropped). For a
    /// buffered source, call it from the consumer's thread or once no read is in progress.
    /// </summary>
    public void Dispose()
    {
        Stop();
        _abort.Cancel();
        if (_thread is { IsAlive: true }) _thread.Join();
        if (_thread is null && State is AcquisitionState.Created or AcquisitionState.Running or AcquisitionState.Paused or AcquisitionState.Disconnected)
            Finish(null);
        _resume.Dispose();
        _linked?.Dispose();
        _stopReading.Dispose();
        _abort.Dispose();
    }
}
