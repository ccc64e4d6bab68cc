using System.Runtime.CompilerServices;
using Qkd.Core.Diagnostics;
using Qkd.Core;
using Qkd.Core.Bits;
using Qkd.Core.Random;
using Qkd.Core.Symbols;
using Qkd.Core.Channel;
using Qkd.Distillation.ErrorCorrection;
using Qkd.Distillation.ErrorCorrection.Ldpc;
using Qkd.Distillation.Messages;
using Qkd.Distillation.ParameterEstimation;
using Qkd.Distillation.PrivacyAmplification;
using Qkd.Distillation.Protocol;
using Qkd.Distillation.Sifting;
using Qkd.Distillation.Verification;
using Qkd.Core.Keys;

namespace Qkd.Distillation;

/// <summary>
/// Alice's end of distillation. It answers Bob's requests in order: sifting against her symbol log, parameter
/// estimation, error correction (Cascade parity queries, or LDPC syndromes and blind reveals), verification, privacy amplification. Alice holds the reference key: her
/// sifted bits are never changed, only disclosed parities of them, all of which are counted.
/// </summary>
public sealed class AliceDistiller
{
    // The block lane (everything but sifting) and its meter; with concurrent stages the sifting lane has its own channel
    // view, meter and writer, served by a second loop, else they are the same objects.
    private readonly IClassicalChannel _channel;
    private readonly StageMeter? _meter;
    private readonly IClassicalChannel _siftChannel;
    private readonly StageMeter? _siftMeter;
    private readonly ProtocolWriter _siftWriter;
    // The sifting loop appends to the sifted buffers while the block loop takes blocks from their front.
    private readonly Lock _siftedLock = new();
    private readonly ISymbolSource _symbols;
    private readonly DistillationOptions _options;
    private readonly IKeySink _keySink;
    private readonly IRandomSource _random;
    private readonly IRandomSource _seedRandom;
    private readonly ProtocolWriter _writer = new();
    private readonly SiftedBuffer[] _sifted = [new(), new()];
    private long _lastPulse = -1;

    private BlockState? _block;

    /// <param name="random">Alice's random choices: Cascade schedule seeds, verification hash keys and the Toeplitz
    /// seeds of privacy amplification.</param>
    public AliceDistiller(IClassicalChannel channel, ISymbolSource symbols, DistillationOptions options, IKeySink keySink, IRandomSource random)
        : this(channel, symbols, options, keySink, random, random)
    {
    }

    /// <param name="random">Cascade schedule seeds and verification hash keys.</param>
    /// <param name="seedRandom">
    /// The Toeplitz seeds: n + l - 1 bits a block, a length that follows the block's key length. Seeded runs give them a
    /// stream of their own so that the other draws, and with them the Cascade schedules and leakage of later blocks,
    /// do not shift with the key lengths of earlier ones. On hardware both are the QRNG (or the OS CSPRNG).
    /// </param>
    public AliceDistiller(IClassicalChannel channel, ISymbolSource symbols, DistillationOptions options, IKeySink keySink,
        IRandomSource random, IRandomSource seedRandom)
    {
        options.Validate();
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(seedRandom);
        if (options.ConcurrentStages)
        {
            var lanes = new MessageLanes(channel);
            (_channel, _siftChannel, _siftWriter) = (lanes.Block, lanes.Sift, new ProtocolWriter());
        }
        else
            (_channel, _siftChannel, _siftWriter) = (channel, channel, _writer);
        _symbols = symbols;
        _options = options;
        _keySink = keySink;
        _random = random;
        _seedRandom = seedRandom;
    }

    /// <summary>
    /// Where Alice adds the time each message's handling takes, by stage, and her sends (the channel stage); null: not
    /// measured. Set before the session opens.
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

    /// <summary>Secret bits stored at Alice so far.</summary>
    public long SecretBits { get; private set; }

    /// <summary>The emission Bob accepted (<see cref="AnnounceEmissionAsync"/>); null when none was announced.</summary>
    public EmissionAnnouncement? Emission { get; private set; }

    /// <summary>
    /// Opens the session: tells Bob what Alice is about to emit and waits until his tagger streams (his
    /// <see cref="ReceiverReady"/>). Call before the emission starts, then <see cref="RunAsync"/>. Once announced, a
    /// sift request naming a pulse outside the emission is refused.
    /// </summary>
    /// <exception cref="ProtocolException">Bob refused the emission (his reason, which names both settings), or answered
    /// out of turn.</exception>
    public async Task AnnounceEmissionAsync(EmissionAnnouncement emission, CancellationToken cancellationToken = default)
    {
        await _channel.SendAsync(emission.Write(_writer), cancellationToken).ConfigureAwait(false);
        var reply = await _channel.ReceiveAsync(cancellationToken).ConfigureAwait(false);
        if (ProtocolReader.PeekType(reply.Span) == MessageType.Goodbye)
            throw new ProtocolException($"Bob refused the emission: {Goodbye.Read(reply.Span).Reason}");
        ReceiverReady.Read(reply.Span);
        Emission = emission;
    }

    /// <summary>Serves Bob until he says goodbye. Returns Bob's closing reason.</summary>
    public async Task<string> RunAsync(CancellationToken cancellationToken = default)
    {
        // Concurrent stages: the sifting lane has a loop of its own; a failure there stops this one (and is rethrown),
        // Goodbye here stops that one (Bob says goodbye only once every sift request is answered).
        using var lanesStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var token = lanesStop.Token;
        Task siftLoop = _siftChannel == _channel ? Task.CompletedTask
            : Task.Run(() => ServeSiftLaneAsync(lanesStop, token), CancellationToken.None);
        try
        {
            while (true)
            {
                ReadOnlyMemory<byte> message;
                try
                {
                    message = await _channel.ReceiveAsync(token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (siftLoop.IsFaulted)
                {
                    await siftLoop.ConfigureAwait(false); // rethrows the sifting loop's failure
                    throw;
                }
                var span = message.Span;
                var type = ProtocolReader.PeekType(span);
                if (type == MessageType.Goodbye)
                {
                    string reason = Goodbye.Read(span).Reason;
                    await StopSiftLoopAsync(siftLoop, lanesStop, cancellationToken).ConfigureAwait(false);
                    return reason;
                }
                // Each handler returns its reply (in _writer), or nothing when the message needs no answer.
                _meter?.Switch(StageOf(type));
                ReadOnlyMemory<byte> reply = type switch
                {
                    MessageType.SiftRequest => HandleSift(span),
                    MessageType.PilotRequest => HandlePilotRequest(span),
                    MessageType.BlockStart => HandleBlockStart(span),
                    MessageType.CorrectionStart => HandleCorrectionStart(span),
                    MessageType.ParityQueries => HandleParityQueries(span),
                    MessageType.LdpcStart => HandleLdpcStart(span),
                    MessageType.RoundTripProbe => RoundTripProbe.Read(span).Write(_writer), // echoed at once: it times the channel
                    MessageType.LdpcRevealRequest => HandleLdpcRevealRequest(span),
                    MessageType.VerificationRequest => HandleVerificationRequest(span),
                    MessageType.VerificationResult => HandleVerificationResult(span),
                    MessageType.BlockDone => HandleBlockDone(span),
                    MessageType.KeyErrorCounts => HandleKeyErrorCounts(span),
                    _ => throw new ProtocolException($"Alice cannot handle a {ProtocolReader.DescribeType((byte)type)} message."),
                };
                _meter?.Stop();
                if (!reply.IsEmpty)
                    await _channel.SendAsync(reply, token).ConfigureAwait(false);
                // A Toeplitz seed too long for one message: its other parts follow the first straight away.
                if (_seedInFlight is { } seed)
                {
                    for (int part = 1; part < seed.MessageCount; part++)
                        await _channel.SendAsync(seed.Write(_writer, part), token).ConfigureAwait(false);
                    _seedInFlight = null;
                }
                // Alice hashes her key once Bob has the seed, so that both ends amplify at the same time.
                if (_amplifyAfterReply is { } amplify)
                {
                    _amplifyAfterReply = null;
                    _meter?.Switch(PipelineStage.PrivacyAmplification);
                    amplify.Block.SecretKey = ToeplitzHash.Apply(amplify.Block.Key, amplify.SecretBits, amplify.Seed);
                    _meter?.Stop();
                }
            }
        }
        finally
        {
            if (!siftLoop.IsCompleted)
            {
                lanesStop.Cancel();
                try { await siftLoop.ConfigureAwait(false); }
                catch (Exception) { /* the failure that ended this loop is the one to report */ }
            }
            DiscardBlock();
            foreach (var buffer in _sifted) buffer.Zeroise();
        }
    }

    /// <summary>
    /// After Goodbye: ends the sifting loop, idle by then, and rethrows its failure if it had one. Bob says goodbye only
    /// once every sift request is answered and may close the channel right after it, so a sifting loop that saw the
    /// channel close is the session's normal end, not a failure.
    /// </summary>
    private static async Task StopSiftLoopAsync(Task siftLoop, CancellationTokenSource lanesStop, CancellationToken cancellationToken)
    {
        if (!siftLoop.IsCompleted) lanesStop.Cancel();
        try
        {
            await siftLoop.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Stopped as asked.
        }
        catch (ClassicalChannelClosedException)
        {
            // Bob closed the channel after his goodbye.
        }
    }

    /// <summary>Concurrent stages: answers Bob's sift and pilot requests, in order, on the sifting lane.</summary>
    private async Task ServeSiftLaneAsync(CancellationTokenSource lanesStop, CancellationToken token)
    {
        try
        {
            while (true)
            {
                var message = await _siftChannel.ReceiveAsync(token).ConfigureAwait(false);
                var type = ProtocolReader.PeekType(message.Span);
                _siftMeter?.Switch(PipelineStage.Sifting);
                ReadOnlyMemory<byte> reply = type switch
                {
                    MessageType.SiftRequest => HandleSift(message.Span),
                    MessageType.PilotRequest => HandlePilotRequest(message.Span),
                    _ => throw new ProtocolException($"Alice cannot handle a {ProtocolReader.DescribeType((byte)type)} message on the sifting lane."),
                };
                _siftMeter?.Stop();
                await _siftChannel.SendAsync(reply, token).ConfigureAwait(false);
            }
        }
        catch (ClassicalChannelClosedException)
        {
            // The block loop reads the same channel: it sees Bob's goodbye before the close (the normal end) or the close
            // itself. Cancelling it here could beat a goodbye already queued on its lane.
            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
        {
            lanesStop.Cancel(); // wakes the block loop, which rethrows this
            throw;
        }
    }

    // Set by HandleVerificationResult: the key to hash once the seed is sent.
    private (BlockState Block, long SecretBits, PackedBits Seed)? _amplifyAfterReply;

    // Sift buffers, reused from batch to batch: the request's pulses and the batch's symbols (Bob's bases are read where
    // the request holds them, and the reply's flags and classes are written where it will hold them).
    private long[] _pulses = [];
    private byte[] _symbolBuffer = [];

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private ReadOnlyMemory<byte> HandleSift(ReadOnlySpan<byte> message)
    {
        int count = SiftRequest.ReadPulses(message, ref _pulses, out int basesAt);
        var pulses = _pulses.AsSpan(0, count);
        // Within the batch the order is checked by the decoding; here, that the batch continues after the last one.
        if (count > 0 && pulses[0] <= _lastPulse)
            throw new ProtocolException($"Sift request repeats or reorders pulse {pulses[0]} (after pulse {_lastPulse}); detections must be strictly increasing.");
        if (count > 0) _lastPulse = pulses[count - 1];
        if (count > 0 && Emission is { } emission)
        {
            if (pulses[count - 1] >= emission.Pulses)
                throw new ProtocolException($"Sift request names pulse {pulses[count - 1]}, beyond the emission of {emission.Pulses} pulses.");
            // The pilot's basis and bit are public: such a pulse must never become key (nor a test bit).
            if (pulses[0] < emission.PilotPulses)
                throw new ProtocolException($"Sift request names pulse {pulses[0]} of the disclosed pilot (pulses 0 .. {emission.PilotPulses - 1}).");
        }

        if (_symbolBuffer.Length < count) _symbolBuffer = new byte[count];
        var symbols = _symbolBuffer.AsSpan(0, count);
        SiftResponse.Reserve(_siftWriter, count, out var kept, out var classes);
        try
        {
            // The whole batch at once: symbols looked up in bulk, then bases compared, records sorted and the reply
            // packed 64 at a time, from Bob's bases as the request packs them.
            _symbols.PackedAt(pulses, symbols);
            lock (_siftedLock)
                SiftKernel.AliceSift(symbols, message.Slice(basesAt, (count + 7) / 8), kept, classes, _sifted[0], _sifted[1], Sifting);
        }
        finally
        {
            // Alice's bits of the batch: raw key once sorted into the sifted buffers.
            symbols.Clear();
        }
        return _siftWriter.Message;
    }

    private bool _pilotDisclosed;

    /// <summary>Discloses the announced pilot's bases and bits, once: Bob asks after measuring every pulse it can fall on.</summary>
    private ReadOnlyMemory<byte> HandlePilotRequest(ReadOnlySpan<byte> message)
    {
        PilotRequest.Read(message);
        if (Emission is not { PilotPulses: > 0 } emission)
            throw new ProtocolException("Pilot requested, but Alice announced no pilot.");
        if (_pilotDisclosed)
            throw new ProtocolException("Pilot requested a second time; it is disclosed once per session.");
        if (_lastPulse >= 0)
            throw new ProtocolException("Pilot requested after sifting began; Bob synchronises first.");
        _pilotDisclosed = true;
        int pilot = checked((int)emission.PilotPulses);
        var symbols = new byte[pilot];
        // The symbols in bulk (two per byte, the modulator's format), reduced to the disclosed basis and bit.
        var packed = new byte[4096];
        for (int first = 0; first < pilot; first += 2 * packed.Length)
        {
            _symbols.FillPacked(first, packed);
            int n = Math.Min(2 * packed.Length, pilot - first);
            for (int i = 0; i < n; i++)
                symbols[first + i] = (byte)((packed[i >> 1] >> ((i & 1) * 4)) & 3);
        }
        return new PilotDisclosure(symbols).Write(_siftWriter);
    }

    private ReadOnlyMemory<byte> HandleBlockStart(ReadOnlySpan<byte> message)
    {
        var start = BlockStart.Read(message);
        long blockId = start.BlockId, zCount = start.ZCount;
        PackedBits bobX = start.XBits;
        long xCount = bobX.Length;
        if (_block is not null)
            throw new ProtocolException($"Block {blockId} started while block {_block.BlockId} is still open.");
        PackedBits zBits, xBits;
        byte[] zIntensities, xIntensities;
        // Bob starts a block only after the sift reply that filled it, so its records are all here, at the front.
        lock (_siftedLock)
        {
            if (zCount > _sifted[0].Count || xCount > _sifted[1].Count)
                throw new ProtocolException($"Block {blockId} closes {zCount} Z and {xCount} X records; Alice has sifted {_sifted[0].Count} and {_sifted[1].Count}.");
            (zBits, zIntensities) = _sifted[0].TakeFront(zCount);
            (xBits, xIntensities) = _sifted[1].TakeFront(xCount);
        }
        long[] errorsX = BlockMath.ErrorsPerIntensity(xBits, bobX, xIntensities);
        long[] siftedZ = BlockMath.CountPerIntensity(zIntensities);
        long[] siftedX = BlockMath.CountPerIntensity(xIntensities);
        var bounds = BlockMath.Estimate(_options, siftedZ, siftedX, errorsX);
        var verdict = BlockMath.Verdict(_options, xCount, errorsX, bounds, zCount);

        var reply = new ParameterEstimate(blockId, errorsX, proceed: verdict is null).Write(_writer);
        if (verdict is null)
            _block = new BlockState(blockId, zBits, zIntensities, bounds) { Counts = (siftedZ, siftedX, errorsX) };
        else
            zBits.Clear();
        return reply;
    }

    private ReadOnlyMemory<byte> HandleCorrectionStart(ReadOnlySpan<byte> message)
    {
        var start = CorrectionStart.Read(message);
        var block = RequireBlock(start.BlockId);
        double qber = start.QberEstimate;
        if (block.Round is not null || block.LdpcFrames.Count > 0)
            throw new ProtocolException($"Block {block.BlockId}: error correction started twice.");
        if (_options.Reconciliation == ReconciliationMethod.Ldpc)
            throw new ProtocolException($"Block {block.BlockId}: Bob started Cascade, but this link is set to LDPC reconciliation (do both ends use the same setting?).");
        int frameCount = BlockMath.FrameCount(block.Key.Length, _options.FrameSizeBits);
        if (start.FrameCount != frameCount)
            throw new ProtocolException($"Block {block.BlockId}: Bob corrects {start.FrameCount} frames, Alice splits its {block.Key.Length} bits into {frameCount} (do both ends use the same frame size?).");
        if (!(qber > 0 && qber <= 0.25))
            throw new ProtocolException($"Block {block.BlockId}: QBER estimate {qber} outside (0, 0.25].");

        var seeds = new ulong[frameCount];
        for (int f = 0; f < frameCount; f++)
        {
            long frameStart = BlockMath.FrameStart(block.Key.Length, frameCount, f);
            int length = (int)(BlockMath.FrameStart(block.Key.Length, frameCount, f + 1) - frameStart);
            seeds[f] = _random.NextUInt64();
            PackedBits frameBits = block.Key.Slice(frameStart, length);
            block.FrameBits.Add(frameBits);
            block.Frames.Add(new CascadeResponder(frameBits, CascadeSchedule.Create(length, qber, seeds[f], _options.Cascade)));
        }
        block.Round = new MultiplexedParityRound(frameCount);
        return new CorrectionSeed(block.BlockId, seeds).Write(_writer);
    }

    /// <summary>
    /// LDPC: plans every frame from Bob's estimate (as he does), builds her codewords with fresh secret punctured bits
    /// and answers with all the syndromes in one message.
    /// </summary>
    private ReadOnlyMemory<byte> HandleLdpcStart(ReadOnlySpan<byte> message)
    {
        var start = LdpcStart.Read(message);
        var block = RequireBlock(start.BlockId);
        if (block.Round is not null || block.LdpcFrames.Count > 0)
            throw new ProtocolException($"Block {block.BlockId}: error correction started twice.");
        if (_options.Reconciliation == ReconciliationMethod.Cascade)
            throw new ProtocolException($"Block {block.BlockId}: Bob started LDPC, but this link is set to Cascade reconciliation (do both ends use the same setting?).");
        int frameCount = LdpcCodeFamily.FrameCount(block.Key.Length);
        if (start.FrameCount != frameCount)
            throw new ProtocolException($"Block {block.BlockId}: Bob decodes {start.FrameCount} LDPC frames, Alice splits its {block.Key.Length} bits into {frameCount}.");
        double qber = start.QberEstimate;
        if (!(qber > 0 && qber <= 0.25))
            throw new ProtocolException($"Block {block.BlockId}: QBER estimate {qber} outside (0, 0.25].");

        var plans = LdpcReconciliation.PlanFrames(block.Key.Length, frameCount, qber, _options.Ldpc);
        var syndromes = new PackedBits[frameCount];
        for (int f = 0; f < frameCount; f++)
        {
            var frameBits = block.Key.Slice(BlockMath.FrameStart(block.Key.Length, frameCount, f), plans[f].KeyBits);
            try
            {
                var responder = new LdpcResponder(frameBits, plans[f], _random);
                block.LdpcFrames.Add(responder);
                syndromes[f] = responder.Syndrome;
            }
            finally
            {
                frameBits.Clear();
            }
        }
        return new LdpcSyndromes(block.BlockId, syndromes).Write(_writer);
    }

    /// <summary>A blind round: the next bits of each frame Bob could not decode, all checked before any is revealed.</summary>
    private ReadOnlyMemory<byte> HandleLdpcRevealRequest(ReadOnlySpan<byte> message)
    {
        if (_block is null)
            throw new ProtocolException("LDPC reveal request, but no block is open at Alice.");
        if (_block.LdpcFrames.Count == 0)
            throw new ProtocolException($"Block {_block.BlockId}: LDPC reveal request before LDPC correction started.");
        var request = LdpcRevealRequest.Read(message, _block.LdpcFrames.Count);
        var block = RequireBlock(request.BlockId);
        foreach (var (frame, bits) in request.Frames)
        {
            try
            {
                block.LdpcFrames[frame].CheckReveal(bits);
            }
            catch (ArgumentException e)
            {
                throw new ProtocolException($"Block {block.BlockId} frame {frame}: invalid reveal request: {e.Message}");
            }
        }
        var revealed = new (int, PackedBits)[request.Frames.Length];
        for (int g = 0; g < revealed.Length; g++)
        {
            var (frame, bits) = request.Frames[g];
            revealed[g] = (frame, block.LdpcFrames[frame].Reveal(bits));
        }
        try
        {
            return new LdpcReveal(block.BlockId, revealed).Write(_writer);
        }
        finally
        {
            foreach (var (_, bits) in revealed) bits.Clear();
        }
    }

    // One round's queries and the parities answering them, reused from round to round; each group of the round
    // views its slice of both.
    private ParityQuery[] _queries = new ParityQuery[1024];
    private byte[] _parities = new byte[1024];

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private ReadOnlyMemory<byte> HandleParityQueries(ReadOnlySpan<byte> message)
    {
        // The round is sized for the open block's frames, so there must be a block in error correction to read into.
        if (_block is null)
            throw new ProtocolException("Parity queries, but no block is open at Alice.");
        if (_block.Round is not { } round)
            throw new ProtocolException($"Block {_block.BlockId}: parity queries before error correction started.");
        var queries = ParityQueries.Read(message, round, ref _queries, ref _parities);
        var block = RequireBlock(queries.BlockId);

        // The whole round is checked before any frame discloses a parity.
        int frameIndex = 0;
        try
        {
            for (int g = 0; g < round.GroupCount; g++)
            {
                frameIndex = round.FrameIndex(g);
                block.Frames[frameIndex].Check(round.Queries(g).Span);
            }
        }
        catch (ArgumentException e)
        {
            throw new ProtocolException($"Block {block.BlockId} frame {frameIndex}: invalid parity query: {e.Message}");
        }
        for (int g = 0; g < round.GroupCount; g++)
            block.Frames[round.FrameIndex(g)].Answer(round.Queries(g).Span, round.Parities(g).Span);
        return new ParityAnswers(block.BlockId, round).Write(_writer);
    }

    private ReadOnlyMemory<byte> HandleVerificationRequest(ReadOnlySpan<byte> message)
    {
        var request = VerificationRequest.Read(message);
        var block = RequireBlock(request.BlockId);
        if (block.Frames.Count == 0 && block.LdpcFrames.Count == 0)
            throw new ProtocolException($"Block {block.BlockId}: verification requested before error correction started.");
        long disclosed = block.Frames.Sum(f => f.ParitiesDisclosed) + block.LdpcFrames.Sum(f => f.LeakedBits);
        if (request.LeakedBits != disclosed)
            throw new ProtocolException($"Block {block.BlockId}: Bob counts {request.LeakedBits} leaked parities, Alice disclosed {disclosed}.");
        block.LeakedBits = disclosed;

        int lanes = PolynomialHash.LanesFor(block.Key.Length, _options.Security.EpsilonCorrectness);
        ulong[] keys = PolynomialHash.DrawKeys(_random, lanes);
        ulong[] tag = PolynomialHash.ComputeTag(block.Key, keys);
        block.TagBits = lanes * PolynomialHash.BitsPerLane;
        return new VerificationTag(block.BlockId, keys, tag).Write(_writer);
    }

    // The open block's Toeplitz seed while its parts go out (public: sent in the clear, nothing to zeroise).
    private AmplificationSeed? _seedInFlight;

    /// <summary>The pipeline stage a message of Bob's belongs to (for <see cref="Stages"/>).</summary>
    private static PipelineStage StageOf(MessageType type) => type switch
    {
        MessageType.SiftRequest or MessageType.PilotRequest => PipelineStage.Sifting,
        MessageType.BlockStart or MessageType.KeyErrorCounts => PipelineStage.Estimation,
        MessageType.VerificationRequest => PipelineStage.Verification,
        // The result of verification: Alice sizes the key and hashes it; BlockDone: she stores it.
        MessageType.VerificationResult or MessageType.BlockDone => PipelineStage.PrivacyAmplification,
        _ => PipelineStage.ErrorCorrection,
    };

    private ReadOnlyMemory<byte> HandleVerificationResult(ReadOnlySpan<byte> message)
    {
        var result = VerificationResult.Read(message);
        var block = RequireBlock(result.BlockId);
        if (!result.Match)
        {
            DiscardBlock();
            return default; // Bob aborts the block; nothing more to say.
        }

        if (_options.Analysis.UsesKeyErrors && block.ErrorsZ is null)
            throw new ProtocolException($"Block {block.BlockId}: the {FiniteKeyAnalyses.Name(_options.FiniteKeyAnalysis)} analysis needs Bob's Z error counts before verification ends.");
        var bounds = block.ErrorsZ is null ? block.Bounds
            : BlockMath.Estimate(_options, block.Counts.SiftedZ, block.Counts.SiftedX, block.Counts.ErrorsX, block.ErrorsZ);
        var length = _options.Analysis.KeyLength(bounds, block.LeakedBits, block.TagBits, _options.Security);
        if (length.SecretBits <= 0)
        {
            DiscardBlock();
            return new AmplificationSeed(block.BlockId, 0, default).Write(_writer);
        }
        // Every bit of the matrix comes from the random source: the leftover hash lemma needs the whole two-universal
        // family, not a pseudorandom corner of it (see ToeplitzSeed).
        var toeplitz = ToeplitzSeed.Draw(_seedRandom, block.Key.Length, length.SecretBits);
        _amplifyAfterReply = (block, length.SecretBits, toeplitz);
        var seed = new AmplificationSeed(block.BlockId, length.SecretBits, toeplitz, _options.AmplificationSeedPartBits);
        if (seed.MessageCount > 1) _seedInFlight = seed;
        return seed.Write(_writer, 0);
    }

    private ReadOnlyMemory<byte> HandleBlockDone(ReadOnlySpan<byte> message)
    {
        var done = BlockDone.Read(message);
        var block = RequireBlock(done.BlockId);
        if (done.Stored && block.SecretKey is not null)
        {
            _keySink.Accept(block.BlockId, block.SecretKey);
            SecretBits += block.SecretKey.Length;
        }
        DiscardBlock();
        return default;
    }

    /// <summary>Bob's Z error counts for the one-decoy analysis (<see cref="KeyErrorCounts"/>); no reply.</summary>
    private ReadOnlyMemory<byte> HandleKeyErrorCounts(ReadOnlySpan<byte> message)
    {
        var counts = KeyErrorCounts.Read(message);
        var block = RequireBlock(counts.BlockId);
        if (!_options.Analysis.UsesKeyErrors)
            throw new ProtocolException($"Block {block.BlockId}: Z error counts, but the {FiniteKeyAnalyses.Name(_options.FiniteKeyAnalysis)} analysis does not use them (do both ends use the same finite-key analysis?).");
        for (int k = 0; k < counts.ErrorsZ.Length; k++)
            if (counts.ErrorsZ[k] > block.Counts.SiftedZ[k])
                throw new ProtocolException($"Block {block.BlockId}: Bob counts {counts.ErrorsZ[k]} Z errors among {block.Counts.SiftedZ[k]} Z bits of intensity {(Intensity)k}.");
        block.ErrorsZ = counts.ErrorsZ;
        return default;
    }

    private BlockState RequireBlock(long blockId)
    {
        if (_block is null || _block.BlockId != blockId)
            throw new ProtocolException($"Message for block {blockId}, but {(_block is null ? "no block" : $"block {_block.BlockId}")} is open at Alice.");
        return _block;
    }

    /// <summary>Zeroises and forgets the open block's key material.</summary>
    private void DiscardBlock()
    {
        if (_block is null) return;
        _block.Key.Clear();
        foreach (var frame in _block.FrameBits) frame.Clear();
        foreach (var responder in _block.Frames) responder.Zeroise(); // its frame copy and permuted pass copies
        foreach (var responder in _block.LdpcFrames) responder.Zeroise(); // its codeword: key and punctured bits
        _block.SecretKey?.Clear();
        _block = null;
    }

    private sealed class BlockState(long blockId, PackedBits key, byte[] intensities, DecoyStateBounds bounds)
    {
        public long BlockId { get; } = blockId;
        public PackedBits Key { get; } = key;
        public byte[] Intensities { get; } = intensities;
        public DecoyStateBounds Bounds { get; } = bounds;
        public List<CascadeResponder> Frames { get; } = [];
        public List<PackedBits> FrameBits { get; } = [];
        /// <summary>Set when LDPC correction starts: one responder per frame.</summary>
        public List<LdpcResponder> LdpcFrames { get; } = [];
        /// <summary>Set when error correction starts: the parity rounds of this block's frames are read into it.</summary>
        public MultiplexedParityRound? Round { get; set; }
        public long LeakedBits { get; set; }
        public int TagBits { get; set; }
        public PackedBits? SecretKey { get; set; }
        /// <summary>The block's public counts, to repeat the estimate once the Z errors are known (one-decoy analysis).</summary>
        public (long[] SiftedZ, long[] SiftedX, long[] ErrorsX) Counts { get; init; }
        public long[]? ErrorsZ { get; set; }
    }
}
