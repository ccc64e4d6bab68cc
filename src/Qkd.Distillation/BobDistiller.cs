using System.Numerics;
using System.Runtime.CompilerServices;
using Qkd.Core.Diagnostics;
using Qkd.Core;
using Qkd.Core.Bits;
using Qkd.Core.Channel;
using Qkd.Distillation.ErrorCorrection;
using Qkd.Distillation.ErrorCorrection.Ldpc;
using Qkd.Distillation.FrameSync;
using Qkd.Distillation.Messages;
using Qkd.Distillation.ParameterEstimation;
using Qkd.Distillation.PrivacyAmplification;
using Qkd.Distillation.Protocol;
using Qkd.Distillation.Sifting;
using Qkd.Distillation.Verification;
using Qkd.Core.Keys;

namespace Qkd.Distillation;

/// <summary>
/// Bob's end of distillation, and the driver of the protocol: Bob knows when detections arrive, so he sifts them
/// with Alice, decides when a block is full, corrects his bits (Cascade or LDPC, <see cref="DistillationOptions.Reconciliation"/>), verifies and amplifies. Blocks are
/// reported through <see cref="BlockCompleted"/> and <see cref="Blocks"/>; keys go only to the key sink.
/// </summary>
public sealed class BobDistiller
{
    // The block lane (everything but sifting) and its meter; with concurrent stages the sifting lane has its own channel
    // view, meter and writer, else they are the same objects.
    private readonly IClassicalChannel _channel;
    private readonly StageMeter? _meter;
    private readonly IClassicalChannel _siftChannel;
    private readonly StageMeter? _siftMeter;
    private readonly ProtocolWriter _siftWriter;
    // Concurrent stages: blocks cut by the sifting flow, distilled in order by one worker (a few at most wait: when
    // distillation falls behind, sifting waits, and the acquisition ring's fill shows it).
    private readonly System.Threading.Channels.Channel<BlockCut>? _blockQueue;
    private Task? _blockWorker;
    private readonly DistillationOptions _options;
    private readonly IKeySink _keySink;
    private readonly ProtocolWriter _writer = new();
    private readonly SiftedBuffer[] _sifted = [new(), new()];
    // Copied on write: the block worker adds while the caller's thread reads.
    private BlockResult[] _blocks = [];
    // Block boundaries in sifting order: a full block ends at the Z record that fills it, and takes the X records
    // sifted up to that point. Recording the X count there (instead of taking whatever X is buffered when the block
    // is cut) keeps blocks independent of how detections happened to be batched.
    // The pulse of each full block's last Z record, and of the last Z record sifted: a block's light time is the span
    // of pulses since the previous block's end (Auto reconciliation weighs it against Cascade's round trips).
    private readonly BlockBoundaries _blockEnds;
    private readonly RoundTripEstimator _roundTrip = new();
    private int _lastCascadeRounds = ReconciliationChoice.DefaultCascadeRounds;
    private long _xTaken;
    private long _nextBlockId;
    private double _lastQberZ = double.NaN;
    // Detections waiting for the next sift message. Callers hand over whatever their reader returned (a few thousand
    // at a time from the acquisition front end); every message costs a one-time-pad tag on an authenticated channel,
    // so Bob sends a sift request only when SiftBatchSize detections are queued, and the remainder at FlushAsync /
    // FinishAsync. Blocks do not depend on this: a block's boundaries are fixed by sifting order, not by batching.
    // The queue holds them already split the way the sift message and the kernels read them (pulse under Alice's
    // numbering, basis, bit: one array each, SiftBatchSize long), so a detection is copied once, as it is queued.
    private readonly long[] _pulses;
    private readonly byte[] _bases;
    private readonly byte[] _bits; // Bob's raw bits: cleared as soon as a batch is sifted or abandoned
    private int _pendingCount;
    private long _lastQueuedPulse = -1;
    private readonly ulong[] _selected; // per 64 detections of a batch: which became Z records, which X

    public BobDistiller(IClassicalChannel channel, DistillationOptions options, IKeySink keySink)
    {
        options.Validate();
        if (options.ConcurrentStages)
        {
            var lanes = new MessageLanes(channel);
            (_channel, _siftChannel, _siftWriter) = (lanes.Block, lanes.Sift, new ProtocolWriter());
            _blockQueue = System.Threading.Channels.Channel.CreateBounded<BlockCut>(new System.Threading.Channels.BoundedChannelOptions(2)
            {
                SingleReader = true,
                SingleWriter = true,
                FullMode = System.Threading.Channels.BoundedChannelFullMode.Wait,
            });
        }
        else
            (_channel, _siftChannel, _siftWriter) = (channel, channel, _writer);
        _options = options;
        _keySink = keySink;
        _pulses = new long[options.SiftBatchSize];
        _bases = new byte[options.SiftBatchSize];
        _bits = new byte[options.SiftBatchSize];
        _selected = new ulong[2 * ((options.SiftBatchSize + 63) / 64)];
        _blockEnds = new BlockBoundaries(options.BlockSizeBits);
    }

    /// <summary>
    /// Where Bob adds the time his sifting and each step of a block take, and his sends (the channel stage); waits for
    /// Alice's replies are not counted. Null: not measured. Set before the session opens.
    /// </summary>
    public StageTimes? Stages
    {
        get => _meter?.Times;
        init
        {
            if (value is null) return;
            _meter = new StageMeter(value);
            bool lanes = _channel != _siftChannel;
            _channel = new MeteredChannel(_channel, _meter);
            _siftMeter = lanes ? new StageMeter(value) : _meter;
            _siftChannel = lanes ? new MeteredChannel(_siftChannel, _siftMeter) : _channel;
        }
    }

    public SiftingStatistics Sifting { get; } = new();

    public IReadOnlyList<BlockResult> Blocks => Volatile.Read(ref _blocks);

    /// <summary>Raised after each block, whatever its outcome.</summary>
    public event Action<BlockResult>? BlockCompleted;

    /// <summary>
    /// Asked once per block that would yield key, after verification and the key length, before the key is made, with
    /// everything measured on the block so far. A non-null answer withholds the block's key at both ends: Bob computes
    /// nothing, tells Alice with <see cref="BlockDone"/> (Stored = false) and she drops hers, so the pools stay equal; the
    /// block ends as <see cref="BlockOutcome.NoKey"/> with the answer as its reason and <see cref="BlockResult.KeyWithheld"/>
    /// set. The session goes on (the next block is asked again). The node's link monitor answers while an alarm that
    /// threatens security is raised. Set before the session opens.
    /// </summary>
    public Func<BlockResult, string?>? KeyHold { get; init; }

    /// <summary>Set when a block aborted for a security reason; the session must then stop producing key.</summary>
    public string? AbortReason { get; private set; }

    /// <summary>
    /// Stops distilling from outside (a device fault made the data untrustworthy: interlock, bias lock, blinding):
    /// sifted bits not yet in a finished block are discarded, and <see cref="FinishAsync"/> ends the session with this
    /// reason. Detections queued for sifting but not yet sent are discarded with them (they may postdate the fault).
    /// Blocks already finished stay valid; with <see cref="DistillationOptions.ConcurrentStages"/>, a block being
    /// distilled when this is called ends without key (withheld at both ends) and blocks waiting for the worker are
    /// discarded. The first reason wins.
    /// </summary>
    public void Abort(string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        AbortReason ??= reason;
    }

    public long SecretBits { get; private set; }

    /// <summary>The emission Alice announced and Bob accepted (<see cref="ConfirmReceiverReadyAsync"/>); null when none was.</summary>
    public EmissionAnnouncement? Emission { get; private set; }

    /// <summary>Detections handed in for pulses at or beyond the announced emission's end: not Alice's light, never sifted.</summary>
    public long DetectionsBeyondEmission { get; private set; }

    /// <summary>
    /// Reads the session's first message, Alice's <see cref="EmissionAnnouncement"/>. The caller checks it against Bob's
    /// link settings, then either starts the tagger and calls <see cref="ConfirmReceiverReadyAsync"/>, or
    /// <see cref="RefuseEmissionAsync"/>.
    /// </summary>
    /// <exception cref="ProtocolException">Alice sent anything else, or a malformed announcement.</exception>
    public async Task<EmissionAnnouncement> ReceiveEmissionAnnouncementAsync(CancellationToken cancellationToken = default)
    {
        var message = await _channel.ReceiveAsync(cancellationToken).ConfigureAwait(false);
        return EmissionAnnouncement.Read(message.Span);
    }

    /// <summary>Refuses Alice's emission (a Goodbye with <paramref name="reason"/>, which should name both ends' settings).</summary>
    public async Task RefuseEmissionAsync(string reason, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        await _channel.SendAsync(new Goodbye(reason).Write(_writer), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Tells Alice that Bob's tagger streams, so she may emit <paramref name="emission"/>. From now on detections at or
    /// beyond its last pulse are dropped (counted in <see cref="DetectionsBeyondEmission"/>). With a pilot, the
    /// detections handed in are numbered by Bob's clock recovery, which may be off by a whole number of pulses within
    /// <paramref name="frameSync"/>: they are held until they cover every pulse the pilot can fall on, then Bob asks for
    /// the pilot, finds the offset (<see cref="PilotCorrelation"/>, <see cref="FrameSync"/>) and sifts under Alice's
    /// indices, never the pilot's pulses. No offset found: the session aborts with the reason, nothing is guessed.
    /// </summary>
    /// <exception cref="ArgumentException">The emission has a pilot and no window is given.</exception>
    public async Task ConfirmReceiverReadyAsync(EmissionAnnouncement emission, FrameSyncWindow? frameSync = null, CancellationToken cancellationToken = default)
    {
        if (emission.PilotPulses > 0)
        {
            _syncWindow = frameSync ?? throw new ArgumentException("An emission with a pilot needs a frame synchronisation window.", nameof(frameSync));
            _pilot = new byte[emission.PilotPulses];
            _syncPending = true;
        }
        Emission = emission;
        await _channel.SendAsync(new ReceiverReady().Write(_writer), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>What frame synchronisation found (null before it ran, or without a pilot).</summary>
    public FrameSyncResult? FrameSync { get; private set; }

    /// <summary>Detections on pilot pulses: disclosed, never sifted.</summary>
    public long PilotDetections { get; private set; }

    /// <summary>Detections that frame synchronisation places before Alice's first pulse (dark counts before her light): never sifted.</summary>
    public long DetectionsBeforeEmission { get; private set; }

    // Frame synchronisation: Bob's detections (his numbering) held until they cover the pilot, and the offset found.
    private FrameSyncWindow _syncWindow;
    private bool _syncPending;
    private byte[] _pilot = [];
    private Detection[] _syncHeld = [];
    private int _syncHeldCount;
    private long _pulseOffset;

    /// <summary>Sifted Z bits waiting for a block.</summary>
    public long PendingSiftedZ => _sifted[0].Count;

    /// <summary>Detections queued for the next sift message (fewer than <see cref="DistillationOptions.SiftBatchSize"/>).</summary>
    public int PendingDetections => _pendingCount;

    /// <summary>
    /// Takes a batch of detections (strictly increasing pulse indices, continuing the previous batches). They are
    /// queued and sifted with Alice <see cref="DistillationOptions.SiftBatchSize"/> at a time, whatever the size of
    /// the batches handed in; every block that fills is distilled right after the sift message that filled it. Fewer
    /// than SiftBatchSize detections can stay queued when this returns: <see cref="FinishAsync"/> sifts them, and
    /// <see cref="FlushAsync"/> does so at any time (a caller that can go quiet for long without ending the session).
    /// The whole batch is checked before any of it is queued: out-of-order detections throw and change nothing.
    /// </summary>
    /// <remarks>
    /// Latency: queued detections are held back by at most one sift batch's worth of arrivals, while a block needs
    /// hundreds of batches (a 2^23-bit block is about 2^24 detections), so a block finishes at most one batch later
    /// than with per-call sifting. The acquisition readers block until detections arrive or the stream ends, and
    /// the session calls <see cref="FinishAsync"/> at the end, so nothing is held past the session.
    /// </remarks>
    public async ValueTask SiftAsync(ReadOnlyMemory<Detection> detections, CancellationToken cancellationToken = default)
    {
        await ThrowIfWorkerFailedAsync().ConfigureAwait(false);
        if (AbortReason is not null)
        {
            // With concurrent stages the worker can abort the link while the caller is between batches, so the caller
            // cannot know before this call: the batch is refused quietly and the caller's next look at AbortReason
            // ends its loop (the abort and its reason are the session's outcome). One stage at a time, the abort
            // happens inside a call the caller awaited, and feeding more after it is the caller's error.
            if (_options.ConcurrentStages) return;
            throw new InvalidOperationException($"The link has aborted ({AbortReason}); no further detections are distilled.");
        }
        _lastQueuedPulse = CheckOrder(detections.Span, _lastQueuedPulse);
        if (_syncPending)
        {
            Hold(detections.Span);
            // Once Bob has passed every pulse the pilot can fall on under any candidate offset, the search can run.
            if (_lastQueuedPulse >= Emission!.Value.PilotPulses - _syncWindow.FirstCandidate)
                await SynchroniseAsync(cancellationToken).ConfigureAwait(false);
            return;
        }
        await QueueAsync(detections, cancellationToken).ConfigureAwait(false);
    }

    private void Hold(ReadOnlySpan<Detection> detections)
    {
        if (_syncHeld.Length < _syncHeldCount + detections.Length)
            Array.Resize(ref _syncHeld, Math.Max(_syncHeldCount + detections.Length, Math.Max(4096, 2 * _syncHeld.Length)));
        detections.CopyTo(_syncHeld.AsSpan(_syncHeldCount));
        _syncHeldCount += detections.Length;
    }

    /// <summary>Asks for the pilot, searches the offset, then sifts the held detections under it (or aborts).</summary>
    private async ValueTask SynchroniseAsync(CancellationToken cancellationToken)
    {
        _syncPending = false;
        try
        {
            await _siftChannel.SendAsync(new PilotRequest().Write(_siftWriter), cancellationToken).ConfigureAwait(false);
            var reply = await _siftChannel.ReceiveAsync(cancellationToken).ConfigureAwait(false);
            PilotDisclosure.Read(reply.Span, _pilot);
            var held = _syncHeld.AsMemory(0, _syncHeldCount);
            var result = PilotCorrelation.Find(held.Span, _pilot, _syncWindow.FirstCandidate, _syncWindow.LastCandidate);
            FrameSync = result;
            if (result.Offset is not long offset)
            {
                Abort(result.Failure!);
                return;
            }
            _pulseOffset = offset;
            await QueueAsync(held, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Bob's raw bits: wipe them once sifted or abandoned.
            _syncHeld.AsSpan(0, _syncHeldCount).Clear();
            _syncHeldCount = 0;
        }
    }

    /// <summary>
    /// Queues detections under Alice's pulse indices, without those of the pilot and those outside the emission (each
    /// counted; without a pilot the indices are Alice's already), and sifts each time SiftBatchSize are queued.
    /// </summary>
    private async ValueTask QueueAsync(ReadOnlyMemory<Detection> detections, CancellationToken cancellationToken)
    {
        int offset = 0;
        while (offset < detections.Length)
        {
            offset = Enqueue(detections.Span, offset);
            if (_pendingCount == _pulses.Length)
                await SiftPendingAsync(cancellationToken).ConfigureAwait(false);
            if (AbortReason is not null)
            {
                // The rest is dropped, but counted where it would have gone, as if the whole batch had been queued.
                Classify(detections.Span[offset..]);
                ClearPending();
                return;
            }
        }
    }

    /// <summary>
    /// Queues <paramref name="source"/> from <paramref name="offset"/> until the queue is full or the source ends, under
    /// Alice's indices, the pilot's and those outside the emission counted and left out; returns where it stopped.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int Enqueue(ReadOnlySpan<Detection> source, int offset)
    {
        long shift = _pulseOffset, pilot = _pilot.Length, end = Emission?.Pulses ?? long.MaxValue;
        long[] pulses = _pulses;
        byte[] bases = _bases, bits = _bits;
        int n = _pendingCount, i = offset;
        for (; i < source.Length && n < pulses.Length; i++)
        {
            ref readonly Detection d = ref source[i];
            long pulse = d.PulseIndex + shift;
            if (pulse >= pilot && pulse < end)
            {
                pulses[n] = pulse;
                bases[n] = (byte)d.Basis;
                bits[n] = d.Bit;
                n++;
            }
            else CountDropped(pulse, pilot);
        }
        _pendingCount = n;
        return i;
    }

    /// <summary>Counts detections that will not be queued where <see cref="Enqueue"/> would have put them.</summary>
    private void Classify(ReadOnlySpan<Detection> rest)
    {
        long pilot = _pilot.Length, end = Emission?.Pulses ?? long.MaxValue;
        foreach (ref readonly Detection d in rest)
        {
            long pulse = d.PulseIndex + _pulseOffset;
            if (pulse < pilot || pulse >= end) CountDropped(pulse, pilot);
        }
    }

    private void CountDropped(long pulse, long pilot)
    {
        if (pulse < 0) DetectionsBeforeEmission++;
        else if (pulse < pilot) PilotDetections++;
        else DetectionsBeyondEmission++;
    }

    /// <summary>
    /// Sifts the queued detections now (one sift message if any are queued) and distils every block that fills.
    /// Blocks come out the same whenever this is called; only the number of sift messages changes.
    /// </summary>
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        if (AbortReason is not null)
        {
            ClearPending();
            return;
        }
        if (_pendingCount > 0)
            await SiftPendingAsync(cancellationToken).ConfigureAwait(false);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // a pass over every detection, called a few times a second: no OSR
    private static long CheckOrder(ReadOnlySpan<Detection> detections, long previous)
    {
        foreach (ref readonly Detection d in detections)
        {
            if (d.PulseIndex <= previous)
                throw new ArgumentException($"Detections must have strictly increasing pulse indices: pulse {d.PulseIndex} follows {previous}.", nameof(detections));
            previous = d.PulseIndex;
        }
        return previous;
    }

    /// <summary>Sifts the queued detections (one sift message), then distils every block that filled.</summary>
    private async ValueTask SiftPendingAsync(CancellationToken cancellationToken)
    {
        try
        {
            await SiftBatchAsync(_pendingCount, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ClearPending();
        }
        while (_sifted[0].Count >= _options.BlockSizeBits && AbortReason is null)
        {
            if (_blockQueue is null)
                await DistillBlockAsync(CutBlock(_options.BlockSizeBits), cancellationToken).ConfigureAwait(false);
            else
                await QueueBlockAsync(CutBlock(_options.BlockSizeBits), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Bob's raw bits sit in the queue: wipe them once sifted (or abandoned). Pulses and bases are public (sent).</summary>
    private void ClearPending()
    {
        _bits.AsSpan(0, _pendingCount).Clear();
        _pendingCount = 0;
    }

    /// <summary>Concurrent stages: hands a cut block to the worker (started with the first), waiting while it is behind.</summary>
    private async ValueTask QueueBlockAsync(BlockCut cut, CancellationToken cancellationToken)
    {
        _blockWorker ??= Task.Run(() => DistillQueuedBlocksAsync(cancellationToken), CancellationToken.None);
        try
        {
            await _blockQueue!.Writer.WriteAsync(cut, cancellationToken).ConfigureAwait(false);
        }
        catch (System.Threading.Channels.ChannelClosedException)
        {
            // Only the worker closes the queue early, as it fails: its failure is the one to report.
            cut.Key.Clear();
            await _blockWorker.ConfigureAwait(false);
            throw;
        }
        catch (OperationCanceledException)
        {
            cut.Key.Clear();
            throw;
        }
    }

    /// <summary>Concurrent stages: the worker that distils the cut blocks in order, on the block lane.</summary>
    private async Task DistillQueuedBlocksAsync(CancellationToken cancellationToken)
    {
        var queue = _blockQueue!;
        try
        {
            await foreach (var cut in queue.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                // A block aborted (or the link was stopped): blocks cut after it are discarded, as the sequential end
                // would never have cut them.
                if (AbortReason is not null)
                    cut.Key.Clear();
                else
                    await DistillBlockAsync(cut, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            queue.Writer.TryComplete(e);
            while (queue.Reader.TryRead(out var left)) left.Key.Clear();
            throw;
        }
    }

    /// <summary>Concurrent stages: no more blocks; waits until the worker has distilled every queued one (rethrows its failure).</summary>
    private async ValueTask DrainBlocksAsync()
    {
        if (_blockQueue is null) return;
        _blockQueue.Writer.TryComplete();
        if (_blockWorker is not null) await _blockWorker.ConfigureAwait(false);
    }

    /// <summary>Rethrows the block worker's failure, if it has failed (concurrent stages).</summary>
    private ValueTask ThrowIfWorkerFailedAsync() =>
        _blockWorker is { IsFaulted: true } failed ? new ValueTask(failed) : ValueTask.CompletedTask;

    /// <summary>
    /// Ends the session: sifts the queued detections, distils the leftover sifted bits as a last block if there are
    /// enough, then says goodbye.
    /// Returns the reason given to Alice (also the "no key" explanation when nothing was distilled).
    /// </summary>
    public async ValueTask<string> FinishAsync(CancellationToken cancellationToken = default)
    {
        // The stream ended before Bob passed the pilot's reach (a short emission, or no light): synchronise on what he has.
        if (_syncPending && AbortReason is null) await SynchroniseAsync(cancellationToken).ConfigureAwait(false);
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        bool finalBlock = AbortReason is null && _sifted[0].Count >= _options.MinimumFinalBlockBits;
        if (_blockQueue is not null)
        {
            if (finalBlock) await QueueBlockAsync(CutBlock(_sifted[0].Count), cancellationToken).ConfigureAwait(false);
            await DrainBlocksAsync().ConfigureAwait(false);
        }
        else if (finalBlock)
            await DistillBlockAsync(CutBlock(_sifted[0].Count), cancellationToken).ConfigureAwait(false);
        string reason = AbortReason is null ? "end of session" : $"aborted: {AbortReason}";

        long leftover = _sifted[0].Count;
        if (leftover > 0 && SecretBits == 0 && AbortReason is null && Blocks.Count == 0)
            reason = $"only {leftover} sifted key bits were collected, fewer than the minimum block of {_options.MinimumFinalBlockBits} bits";

        await _channel.SendAsync(new Goodbye(reason).Write(_writer), cancellationToken).ConfigureAwait(false);
        foreach (var buffer in _sifted) buffer.Zeroise();
        ClearPending();
        return reason;
    }

    private async ValueTask SiftBatchAsync(int count, CancellationToken cancellationToken)
    {
        _siftMeter?.Switch(PipelineStage.Sifting);
        try
        {
            await SiftBatchMeteredAsync(count, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _siftMeter?.Stop();
        }
    }

    /// <summary>One sift message for the first <paramref name="count"/> queued detections (their order checked when queued).</summary>
    private async ValueTask SiftBatchMeteredAsync(int count, CancellationToken cancellationToken)
    {
        await _siftChannel.SendAsync(new SiftRequest(_pulses.AsMemory(0, count), _bases.AsMemory(0, count)).Write(_siftWriter), cancellationToken).ConfigureAwait(false);
        var reply = await _siftChannel.ReceiveAsync(cancellationToken).ConfigureAwait(false);
        ReadSiftResponse(reply.Span, count);
    }

    /// <summary>Alice's reply read in its packed form: the records sorted 64 at a time, then the Z records' pulses a block needs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ReadSiftResponse(ReadOnlySpan<byte> message, int count)
    {
        int covered = SiftResponse.ReadPacked(message, count, out int keptAt, out int classesAt);
        if (covered != count)
            throw new ProtocolException($"Sift response covers {covered} detections of {count}.");
        // Bob's bits are cleared by the caller right after this (ClearPending), sorted or not.
        SiftKernel.BobSift(_bases.AsSpan(0, count), _bits.AsSpan(0, count), message[keptAt..], message[classesAt..],
            _sifted[0], _sifted[1], Sifting, _selected);
        _blockEnds.Advance(_selected, _pulses.AsSpan(0, count));
    }

    /// <summary>
    /// A block's sifted records taken from the buffers, with its bookkeeping. Cut on the sifting flow, in sifting
    /// order, so a block holds the same records whenever it is then distilled.
    /// </summary>
    private sealed record BlockCut(long BlockId, PackedBits Key, byte[] ZIntensities, PackedBits XBits, byte[] XIntensities,
        double LightSeconds, long FirstPulse, long EndPulse);

    private BlockCut CutBlock(long zCount)
    {
        long blockId = _nextBlockId++;
        // A full block takes the X records sifted up to its last Z record; the final (partial) block takes the rest.
        long xCount = zCount == _options.BlockSizeBits && _blockEnds.XTotalAtBlockEnd.Count > 0
            ? _blockEnds.XTotalAtBlockEnd.Dequeue() - _xTaken
            : _sifted[1].Count;
        _xTaken += xCount;
        long endPulse = zCount == _options.BlockSizeBits && _blockEnds.PulseAtBlockEnd.Count > 0 ? _blockEnds.PulseAtBlockEnd.Dequeue() : _blockEnds.LastZPulse;
        double lightSeconds = _options.PulseRateHz is double rate && _blockEnds.BlockStartPulse >= 0 ? (endPulse - _blockEnds.BlockStartPulse + 1) / rate : double.NaN;
        long firstPulse = _blockEnds.BlockStartPulse;
        _blockEnds.BlockStartPulse = endPulse + 1;
        var (key, zIntensities) = _sifted[0].TakeFront(zCount);
        var (xBits, xIntensities) = _sifted[1].TakeFront(xCount);
        return new BlockCut(blockId, key, zIntensities, xBits, xIntensities, lightSeconds, firstPulse, endPulse);
    }

    private async ValueTask DistillBlockAsync(BlockCut cut, CancellationToken ct)
    {
        var key = cut.Key;
        try
        {
            BlockResult result;
            try
            {
                result = await DistillAsync(cut, ct).ConfigureAwait(false);
            }
            finally
            {
                _meter?.Stop();
            }
            Volatile.Write(ref _blocks, [.. _blocks, result]);
            if (result.Outcome == BlockOutcome.Aborted) AbortReason = result.Reason;
            SecretBits += result.SecretBits;
            BlockCompleted?.Invoke(result);
        }
        finally
        {
            key.Clear();
        }
    }

    private async ValueTask<BlockResult> DistillAsync(BlockCut cut, CancellationToken ct)
    {
        var (blockId, key, zIntensities, xBits, xIntensities, lightSeconds) = (cut.BlockId, cut.Key, cut.ZIntensities, cut.XBits, cut.XIntensities, cut.LightSeconds);
        // 1. Parameter estimation: Bob discloses his X bits (test bits, never key); Alice counts errors per intensity.
        _meter?.Switch(PipelineStage.Estimation);
        await _channel.SendAsync(new BlockStart(blockId, key.Length, xBits).Write(_writer), ct).ConfigureAwait(false);

        var aliceEstimate = ParameterEstimate.Read((await _channel.ReceiveAsync(ct).ConfigureAwait(false)).Span);
        if (aliceEstimate.BlockId != blockId)
            throw new ProtocolException($"Parameter estimate for block {aliceEstimate.BlockId}, expected block {blockId}.");
        long[] errorsX = aliceEstimate.ErrorsX;
        foreach (long errors in errorsX)
            if (errors > xBits.Length)
                throw new ProtocolException($"Block {blockId}: Alice counts {errors} X errors among {xBits.Length} X bits.");
        long[] siftedZ = BlockMath.CountPerIntensity(zIntensities);
        long[] siftedX = BlockMath.CountPerIntensity(xIntensities);
        var bounds = BlockMath.Estimate(_options, siftedZ, siftedX, errorsX);
        var verdict = BlockMath.Verdict(_options, xBits.Length, errorsX, bounds, key.Length);
        if ((verdict is null) != aliceEstimate.Proceed)
            throw new ProtocolException($"Block {blockId}: Alice and Bob reached different parameter-estimation verdicts.");

        var result = new BlockResult
        {
            BlockId = blockId,
            Outcome = BlockOutcome.Key,
            SiftedZ = key.Length,
            SiftedX = xBits.Length,
            SiftedZPerIntensity = siftedZ,
            SiftedXPerIntensity = siftedX,
            ErrorsXPerIntensity = errorsX,
            Bounds = bounds,
            LightSeconds = lightSeconds, // known now: a block that ends here still tells the link monitor its gains
            // Known now too: the key hold's link monitor takes the receiver's counts over exactly these pulses.
            FirstPulse = cut.FirstPulse,
            LastPulse = cut.EndPulse,
        };
        if (verdict is { } v)
            return result with { Outcome = v.Outcome, Reason = v.Reason };

        // 2. Error correction: all frames at once, by Cascade (one message each way per round of the whole block) or
        // LDPC (one message each way, plus a blind round now and then), as the link is set or, on Auto, as the round
        // trip measured just now allows.
        _meter?.Switch(PipelineStage.ErrorCorrection);
        double qberX = (double)errorsX.Sum() / xBits.Length;
        double estimate = Math.Clamp(double.IsNaN(_lastQberZ) ? qberX : _lastQberZ, 0.002, 0.25);
        if (_options.Reconciliation == ReconciliationMethod.Auto)
            await ProbeRoundTripAsync(ct).ConfigureAwait(false);
        var roundTrip = _roundTrip.Current;
        var method = ReconciliationChoice.Choose(_options.Reconciliation, roundTrip, _lastCascadeRounds, lightSeconds);
        PackedBits original = key.Clone();
        long waitStart = _channelWaitTicks;
        long leaked;
        int rounds, frameRounds, frameCount, decodeFailures = 0;
        long revealedBits = 0;
        if (method == ReconciliationMethod.Ldpc)
        {
            var ldpc = await CorrectLdpcAsync(blockId, key, estimate, ct).ConfigureAwait(false);
            (leaked, rounds, frameCount, decodeFailures, revealedBits) = (ldpc.LeakedBits, ldpc.Rounds, ldpc.Frames, ldpc.FramesFailedFirstAttempt, ldpc.RevealedBits);
            frameRounds = rounds;
        }
        else
        {
            frameCount = BlockMath.FrameCount(key.Length, _options.FrameSizeBits);
            var cascade = await CorrectAsync(blockId, key, frameCount, estimate, ct).ConfigureAwait(false);
            (leaked, rounds, frameRounds) = (cascade.LeakedBits, cascade.Rounds, cascade.FrameRounds);
            _lastCascadeRounds = cascade.Rounds;
        }
        long[] errorsZ = BlockMath.ErrorsPerIntensity(original, key, zIntensities);
        original.Clear();
        double qberZ = (double)errorsZ.Sum() / key.Length;
        _lastQberZ = qberZ;
        double efficiency = qberZ > 0 ? leaked / (key.Length * BinaryEntropy.H2(qberZ)) : double.NaN;
        result = result with
        {
            ErrorsZPerIntensity = errorsZ,
            QberEstimateUsedForCorrection = estimate,
            LeakedErrorCorrectionBits = leaked,
            ErrorCorrectionRounds = rounds,
            ErrorCorrectionFrameRounds = frameRounds,
            ErrorCorrectionFrames = frameCount,
            ErrorCorrectionEfficiency = efficiency,
            Reconciliation = method,
            ErrorCorrectionDecodeFailures = decodeFailures,
            ErrorCorrectionRevealedBits = revealedBits,
            ErrorCorrectionWaitSeconds = System.Diagnostics.Stopwatch.GetElapsedTime(0, _channelWaitTicks - waitStart).TotalSeconds,
            RoundTripSeconds = roundTrip?.TotalSeconds,
            LightSeconds = lightSeconds,
        };

        // The one-decoy analysis bounds the vacuum events by the Z errors just found, and Kato's bounds take their
        // predictions from them: both ends re-estimate with them.
        if (_options.Analysis.UsesKeyErrors)
        {
            _meter?.Switch(PipelineStage.Estimation);
            await _channel.SendAsync(new KeyErrorCounts(blockId, errorsZ).Write(_writer), ct).ConfigureAwait(false);
            bounds = BlockMath.Estimate(_options, siftedZ, siftedX, errorsX, errorsZ);
            result = result with { Bounds = bounds };
        }

        // 3. Verification: Alice picks the hash; a mismatch means Cascade left errors, and the block is dropped.
        _meter?.Switch(PipelineStage.Verification);
        await _channel.SendAsync(new VerificationRequest(blockId, leaked).Write(_writer), ct).ConfigureAwait(false);
        var tag = VerificationTag.Read((await _channel.ReceiveAsync(ct).ConfigureAwait(false)).Span);
        if (tag.BlockId != blockId) throw new ProtocolException($"Verification tag for another block than {blockId}.");
        int expectedLanes = PolynomialHash.LanesFor(key.Length, _options.Security.EpsilonCorrectness);
        if (tag.Lanes != expectedLanes)
            throw new ProtocolException($"Alice used {tag.Lanes} hash lanes, the security parameters require {expectedLanes}.");
        bool match = PolynomialHash.ComputeTag(key, tag.Keys).AsSpan().SequenceEqual(tag.Tag);
        int tagBits = tag.Lanes * PolynomialHash.BitsPerLane;
        await _channel.SendAsync(new VerificationResult(blockId, match).Write(_writer), ct).ConfigureAwait(false);
        result = result with { VerificationPassed = match, VerificationTagBits = tagBits };
        if (!match)
            return result with { Outcome = BlockOutcome.Aborted, Reason = "verification hash mismatch: error correction left errors; the block is discarded" };

        // 4. Key length from the finite-key bound with the leakage actually spent, then privacy amplification.
        _meter?.Switch(PipelineStage.PrivacyAmplification);
        var keyLength = _options.Analysis.KeyLength(bounds, leaked, tagBits, _options.Security);
        result = result with { KeyLength = keyLength };
        var amplification = AmplificationSeed.Read((await _channel.ReceiveAsync(ct).ConfigureAwait(false)).Span, key.Length,
            _options.AmplificationSeedPartBits);
        if (amplification.BlockId != blockId) throw new ProtocolException($"Amplification seed for another block than {blockId}.");
        long bobLength = Math.Max(0, keyLength.SecretBits);
        if (amplification.SecretBits != bobLength)
            throw new ProtocolException($"Block {blockId}: Alice computed a key of {amplification.SecretBits} bits, Bob {bobLength}.");
        if (bobLength == 0)
            return result with { Outcome = BlockOutcome.NoKey, Reason = $"finite-key length is zero: {keyLength.NoKeyReason}" };
        // The rest of the seed, when it did not fit one message: Alice sends the parts back to back.
        while (!amplification.IsComplete)
            amplification = amplification.ReadNext((await _channel.ReceiveAsync(ct).ConfigureAwait(false)).Span);
        // Withheld (an alarm that threatens security): neither end keeps the key; Alice drops hers on BlockDone.
        // With concurrent stages the link may have been stopped (Abort) while this block was being distilled: its key
        // is withheld like any other, as the sequential end would never have started it.
        if ((AbortReason is string stopped ? $"the link was stopped: {stopped}" : KeyHold?.Invoke(result with { SecretBits = keyLength.SecretBits })) is string hold)
        {
            await _channel.SendAsync(new BlockDone(blockId, Stored: false).Write(_writer), ct).ConfigureAwait(false);
            return result with { Outcome = BlockOutcome.NoKey, Reason = $"key withheld: {hold}", KeyWithheld = true };
        }
        // The matrix is exactly the n + l - 1 bits Alice drew (Read checked the length against this block's n and l).
        var secret = ToeplitzHash.Apply(key, bobLength, amplification.Seed!);
        try
        {
            _keySink.Accept(blockId, secret);
        }
        finally
        {
            secret.Clear();
        }
        await _channel.SendAsync(new BlockDone(blockId, Stored: true).Write(_writer), ct).ConfigureAwait(false);
        return result with { SecretBits = keyLength.SecretBits };
    }

    // Stopwatch ticks Bob has spent waiting for Alice's error-correction replies (the report's waiting time).
    private long _channelWaitTicks;

    /// <summary>Receives Alice's reply to an error-correction request, adding the wait to <see cref="_channelWaitTicks"/>.</summary>
    private async ValueTask<ReadOnlyMemory<byte>> ReceiveCorrectionReplyAsync(long sentAt, CancellationToken ct)
    {
        var reply = await _channel.ReceiveAsync(ct).ConfigureAwait(false);
        _channelWaitTicks += System.Diagnostics.Stopwatch.GetTimestamp() - sentAt;
        return reply;
    }

    /// <summary>One <see cref="RoundTripProbe"/> exchange: Alice echoes it at once, so it times the channel alone.</summary>
    private async ValueTask ProbeRoundTripAsync(CancellationToken ct)
    {
        ulong sequence = (ulong)_nextBlockId;
        long sent = System.Diagnostics.Stopwatch.GetTimestamp();
        await _channel.SendAsync(new RoundTripProbe(sequence).Write(_writer), ct).ConfigureAwait(false);
        var echo = RoundTripProbe.Read((await _channel.ReceiveAsync(ct).ConfigureAwait(false)).Span);
        long elapsed = System.Diagnostics.Stopwatch.GetTimestamp() - sent;
        if (echo.Sequence != sequence)
            throw new ProtocolException($"Round-trip probe {sequence} answered with {echo.Sequence}.");
        _roundTrip.Add(elapsed);
    }

    /// <summary>
    /// LDPC correction of the whole block: one LdpcStart, Alice's syndromes of every frame in one reply, a decoding
    /// attempt of every frame (in parallel), then, while frames fail, a blind round for all of them together: Bob asks
    /// for the next bits of each failing frame's reveal order and decodes again. A frame is never dropped: in the worst
    /// case every bit of it is revealed (and counted), and then it decodes trivially.
    /// </summary>
    private async ValueTask<LdpcReconciliationResult> CorrectLdpcAsync(long blockId, PackedBits key, double qberEstimate, CancellationToken ct)
    {
        int frameCount = LdpcCodeFamily.FrameCount(key.Length);
        var plans = LdpcReconciliation.PlanFrames(key.Length, frameCount, qberEstimate, _options.Ldpc);
        long sent = System.Diagnostics.Stopwatch.GetTimestamp();
        await _channel.SendAsync(new LdpcStart(blockId, frameCount, qberEstimate).Write(_writer), ct).ConfigureAwait(false);
        var checks = plans.Select(p => p.Code.Checks).ToArray();
        var syndromes = LdpcSyndromes.Read((await ReceiveCorrectionReplyAsync(sent, ct).ConfigureAwait(false)).Span, checks);
        if (syndromes.BlockId != blockId)
            throw new ProtocolException($"LDPC syndromes for block {syndromes.BlockId}, expected block {blockId}.");

        var frameBits = new PackedBits[frameCount];
        var correctors = new LdpcCorrector[frameCount];
        try
        {
            for (int f = 0; f < frameCount; f++)
            {
                frameBits[f] = key.Slice(BlockMath.FrameStart(key.Length, frameCount, f), plans[f].KeyBits);
                correctors[f] = new LdpcCorrector(frameBits[f], plans[f], qberEstimate);
                correctors[f].SetSyndrome(syndromes.Syndromes[f]);
            }
            int rounds = 1;
            var failing = LdpcReconciliation.DecodePending(correctors, _options.Ldpc);
            int failedFirst = failing.Count;
            while (failing.Count > 0)
            {
                rounds++;
                var asks = new (int Frame, int Bits)[failing.Count];
                for (int i = 0; i < asks.Length; i++)
                {
                    int count = correctors[failing[i]].NextRevealCount;
                    // Everything revealed and still no codeword: Alice's syndrome does not belong to her bits.
                    if (count == 0)
                        throw new ProtocolException($"Block {blockId} frame {failing[i]}: every bit is revealed and the syndrome is still not met.");
                    asks[i] = (failing[i], count);
                }
                var request = new LdpcRevealRequest(blockId, asks);
                sent = System.Diagnostics.Stopwatch.GetTimestamp();
                await _channel.SendAsync(request.Write(_writer), ct).ConfigureAwait(false);
                var reveal = LdpcReveal.Read((await ReceiveCorrectionReplyAsync(sent, ct).ConfigureAwait(false)).Span, request);
                if (reveal.BlockId != blockId)
                    throw new ProtocolException($"LDPC reveal for block {reveal.BlockId}, expected block {blockId}.");
                foreach (var (frame, bits) in reveal.Frames)
                {
                    correctors[frame].AddRevealed(bits);
                    bits.Clear();
                }
                failing = LdpcReconciliation.DecodePending(correctors, _options.Ldpc);
            }
            for (int f = 0; f < frameCount; f++)
                key.CopyFrom(frameBits[f], BlockMath.FrameStart(key.Length, frameCount, f));
            return new LdpcReconciliationResult(frameCount, correctors.Sum(c => c.LeakedBits), rounds, failedFirst,
                correctors.Sum(c => (long)c.Revealed), correctors.Sum(c => c.Iterations));
        }
        finally
        {
            foreach (var bits in frameBits) bits?.Clear();
            foreach (var corrector in correctors) corrector?.Zeroise();
        }
    }

    /// <summary>
    /// Agrees a Cascade schedule per frame with Alice (one CorrectionStart, one CorrectionSeed with every frame's
    /// seed), then corrects the frames together, each round of all live frames in one message pair.
    /// </summary>
    private async ValueTask<MultiplexedCascadeResult> CorrectAsync(long blockId, PackedBits key, int frameCount, double qberEstimate, CancellationToken ct)
    {
        long sent = System.Diagnostics.Stopwatch.GetTimestamp();
        await _channel.SendAsync(new CorrectionStart(blockId, frameCount, qberEstimate).Write(_writer), ct).ConfigureAwait(false);
        var correction = CorrectionSeed.Read((await ReceiveCorrectionReplyAsync(sent, ct).ConfigureAwait(false)).Span);
        if (correction.BlockId != blockId)
            throw new ProtocolException($"Correction seeds for block {correction.BlockId}, expected block {blockId}.");
        if (correction.Seeds.Length != frameCount)
            throw new ProtocolException($"Block {blockId}: Alice sent correction seeds for {correction.Seeds.Length} frames, Bob corrects {frameCount}.");
        var seeds = correction.Seeds;

        var frameBits = new PackedBits[frameCount];
        var correctors = new CascadeCorrector[frameCount];
        try
        {
            for (int f = 0; f < frameCount; f++)
            {
                long start = BlockMath.FrameStart(key.Length, frameCount, f);
                int length = (int)(BlockMath.FrameStart(key.Length, frameCount, f + 1) - start);
                frameBits[f] = key.Slice(start, length);
                correctors[f] = new CascadeCorrector(frameBits[f], CascadeSchedule.Create(length, qberEstimate, seeds[f], _options.Cascade));
            }
            var oracle = new ChannelParityOracle(_channel, _writer, blockId);
            var result = await new MultiplexedCascade(correctors).RunAsync(oracle, ct).ConfigureAwait(false);
            _channelWaitTicks += oracle.WaitTicks;
            for (int f = 0; f < frameCount; f++)
                key.CopyFrom(frameBits[f], BlockMath.FrameStart(key.Length, frameCount, f));
            return result;
        }
        finally
        {
            foreach (var bits in frameBits) bits?.Clear();
            foreach (var corrector in correctors) corrector?.Zeroise(); // the pass copies of Bob's bits
        }
    }
}
