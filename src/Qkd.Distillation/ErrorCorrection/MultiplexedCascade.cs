using System.Runtime.ExceptionServices;
using System.Threading.Tasks.Sources;

namespace Qkd.Distillation.ErrorCorrection;

/// <summary>
/// Corrects the frames of a block together, so that the block costs about as many round trips as its slowest frame
/// rather than the sum over its frames. Each frame keeps its own <see cref="CascadeCorrector"/> (the algorithm, its
/// queries and its leakage are exactly those of a frame corrected alone); what changes is the transport: every
/// corrector's round goes into one <see cref="MultiplexedParityRound"/>, which is handed to the oracle once all live
/// frames have asked. A frame that finishes leaves the barrier, so the others do not wait for it.
/// </summary>
/// <remarks>
/// The correctors run as async methods parked on per-frame completions. Releasing a round resumes each frame in
/// frame order, normally inline on the releasing thread, up to its next question; the driver then finds every live
/// frame waiting and sends the next round. If a frame resumes elsewhere (the runtime may do so when the stack is
/// deep), the driver simply waits for it: the barrier counts, it does not assume. Completions are reused, so a round
/// allocates nothing per query.
/// </remarks>
public sealed class MultiplexedCascade
{
    private readonly CascadeCorrector[] _correctors;
    private readonly FrameSlot[] _frames;
    private readonly MultiplexedParityRound _round;
    private readonly Completion _roundReady = new();
    private readonly Lock _gate = new();
    private int _live;            // frames whose corrector is still running
    private int _waiting;         // live frames parked on a question
    private bool _driverWaiting;  // the driver is parked on _roundReady
    private Exception? _frameFault;
    private Exception? _failure;  // once set, every question fails at once
    private bool _started;

    /// <param name="correctors">One corrector per frame, in frame order (the frame index is the position here).</param>
    public MultiplexedCascade(IReadOnlyList<CascadeCorrector> correctors)
    {
        ArgumentNullException.ThrowIfNull(correctors);
        if (correctors.Count == 0) throw new ArgumentException("At least one frame is needed.", nameof(correctors));
        _correctors = [.. correctors];
        _frames = new FrameSlot[_correctors.Length];
        for (int f = 0; f < _frames.Length; f++)
        {
            ArgumentNullException.ThrowIfNull(_correctors[f], nameof(correctors));
            _frames[f] = new FrameSlot(this);
        }
        _round = new MultiplexedParityRound(_frames.Length);
    }

    public int FrameCount => _frames.Length;

    /// <summary>
    /// Runs every frame's corrector to its end. On return each frame is corrected exactly as
    /// <see cref="CascadeCorrector.RunAsync"/> alone would have corrected it.
    /// </summary>
    /// <exception cref="InvalidOperationException">Called twice.</exception>
    /// <remarks>If the oracle or a corrector fails, the other frames are stopped with the same exception, which is rethrown.</remarks>
    public async ValueTask<MultiplexedCascadeResult> RunAsync(IMultiplexedParityOracle oracle, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(oracle);
        if (_started) throw new InvalidOperationException("This multiplexer has already run; create one per block.");
        _started = true;

        _live = _frames.Length;
        var tasks = new Task<CascadeResult>[_frames.Length];
        for (int f = 0; f < tasks.Length; f++) tasks[f] = RunFrameAsync(f, cancellationToken);
        int rounds = 0;
        try
        {
            while (true)
            {
                await WaitForRoundAsync().ConfigureAwait(false);
                if (_frameFault is { } fault) ExceptionDispatchInfo.Throw(fault);
                if (!GatherRound()) break;
                rounds++;
                await oracle.AnswerAsync(_round, cancellationToken).ConfigureAwait(false);
                ReleaseRound();
            }
        }
        catch (Exception e)
        {
            FailWaitingFrames(e);
            try
            {
                await Task.WhenAll(tasks).ConfigureAwait(false);
            }
            catch
            {
                // Observed: the frames failed with the cause rethrown below (or one of their own).
            }
            throw;
        }

        var results = new CascadeResult[tasks.Length];
        for (int f = 0; f < tasks.Length; f++) results[f] = await tasks[f].ConfigureAwait(false);
        return new MultiplexedCascadeResult(results, rounds);
    }

    private async Task<CascadeResult> RunFrameAsync(int frame, CancellationToken cancellationToken)
    {
        try
        {
            return await _correctors[frame].RunAsync(_frames[frame], cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            lock (_gate) _frameFault ??= e;
            throw;
        }
        finally
        {
            bool signal;
            lock (_gate)
            {
                _live--;
                signal = ReadyLocked();
            }
            if (signal) _roundReady.Complete(null);
        }
    }

    /// <summary>A frame's question: parks the frame until the round it joins is answered.</summary>
    private ValueTask Ask(FrameSlot frame, ReadOnlyMemory<ParityQuery> queries, Memory<byte> parities)
    {
        ValueTask answered;
        bool signal;
        lock (_gate)
        {
            if (_failure is { } failure) return ValueTask.FromException(failure);
            if (frame.Waiting) throw new InvalidOperationException("A frame asked again before its previous round was answered.");
            frame.Queries = queries;
            frame.Parities = parities;
            frame.Waiting = true;
            answered = frame.Answered.Arm();
            _waiting++;
            signal = ReadyLocked();
        }
        if (signal) _roundReady.Complete(null);
        return answered;
    }

    /// <summary>True (once) when the parked driver should go on: every live frame is waiting, or a frame failed.</summary>
    private bool ReadyLocked()
    {
        if (!_driverWaiting || (_waiting != _live && _frameFault is null)) return false;
        _driverWaiting = false;
        return true;
    }

    private ValueTask WaitForRoundAsync()
    {
        lock (_gate)
        {
            if (_waiting == _live || _frameFault is not null) return ValueTask.CompletedTask;
            _driverWaiting = true;
            return _roundReady.Arm();
        }
    }

    /// <summary>Collects the waiting frames' questions in frame order; false when no frame is left.</summary>
    private bool GatherRound()
    {
        _round.Clear();
        lock (_gate)
        {
            for (int f = 0; f < _frames.Length; f++)
                if (_frames[f].Waiting) _round.Add(f, _frames[f].Queries, _frames[f].Parities);
        }
        return _round.GroupCount > 0;
    }

    /// <summary>Resumes the frames of the answered round, in frame order; each runs on to its next question or its end.</summary>
    private void ReleaseRound()
    {
        for (int g = 0; g < _round.GroupCount; g++)
            Release(_frames[_round.FrameIndex(g)], null);
    }

    private void FailWaitingFrames(Exception cause)
    {
        lock (_gate) _failure ??= cause;
        foreach (var frame in _frames)
            if (frame.Waiting) Release(frame, cause);
    }

    private void Release(FrameSlot frame, Exception? failure)
    {
        lock (_gate)
        {
            if (!frame.Waiting) return;
            frame.Waiting = false;
            frame.Queries = default;
            frame.Parities = default;
            _waiting--;
        }
        frame.Answered.Complete(failure);
    }

    /// <summary>One frame's oracle as its corrector sees it, and where its pending question is kept.</summary>
    private sealed class FrameSlot(MultiplexedCascade owner) : IParityOracle
    {
        public readonly Completion Answered = new();
        public ReadOnlyMemory<ParityQuery> Queries;
        public Memory<byte> Parities;
        public bool Waiting;

        public ValueTask AnswerAsync(ReadOnlyMemory<ParityQuery> queries, Memory<byte> parities, CancellationToken cancellationToken) =>
            owner.Ask(this, queries, parities);
    }

    /// <summary>
    /// A reusable awaitable: continuations run inline on the completing thread, which is what keeps the rounds in
    /// lockstep without a hop through the thread pool per frame per round.
    /// </summary>
    private sealed class Completion : IValueTaskSource
    {
        private ManualResetValueTaskSourceCore<bool> _core;

        public ValueTask Arm()
        {
            _core.Reset();
            return new ValueTask(this, _core.Version);
        }

        public void Complete(Exception? failure)
        {
            if (failure is null) _core.SetResult(true);
            else _core.SetException(failure);
        }

        public void GetResult(short token) => _core.GetResult(token);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }
}
