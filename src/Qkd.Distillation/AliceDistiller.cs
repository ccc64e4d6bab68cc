using Qkd.Core;
using Qkd.Core.Bits;
using Qkd.Core.Random;
using Qkd.Core.Symbols;
using Qkd.Core.Channel;
using Qkd.Distillation.ErrorCorrection;
using Qkd.Distillation.ParameterEstimation;
using Qkd.Distillation.PrivacyAmplification;
using Qkd.Distillation.Protocol;
using Qkd.Distillation.Sifting;
using Qkd.Distillation.Verification;
using Qkd.Core.Keys;

namespace Qkd.Distillation;

/// <summary>
/// Alice's end of distillation. It answers Bob's requests in order: sifting against her symbol log, parameter
/// estimation, Cascade parity queries, verification, privacy amplification. Alice holds the reference key: her
/// sifted bits are never changed, only disclosed parities of them, all of which are counted.
/// </summary>
public sealed class AliceDistiller
{
    private readonly IClassicalChannel _channel;
    private readonly ISymbolSource _symbols;
    private readonly DistillationOptions _options;
    private readonly IKeySink _keySink;
    private readonly IRandomSource _random;
    private readonly ProtocolWriter _writer = new();
    private readonly SiftedBuffer[] _sifted = [new(), new()];
    private long _lastPulse = -1;

    private BlockState? _block;

    public AliceDistiller(IClassicalChannel channel, ISymbolSource symbols, DistillationOptions options, IKeySink keySink, IRandomSource random)
    {
        options.Validate();
        _channel = channel;
        _symbols = symbols;
        _options = options;
        _keySink = keySink;
        _random = random;
    }

    public SiftingStatistics Sifting { get; } = new();

    /// <summary>Secret bits stored at Alice so far.</summary>
    public long SecretBits { get; private set; }

    /// <summary>Serves Bob until he says goodbye. Returns Bob's closing reason.</summary>
    public async Task<string> RunAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            while (true)
            {
                var message = await _channel.ReceiveAsync(cancellationToken).ConfigureAwait(false);
                var type = ProtocolReader.PeekType(message.Span);
                switch (type)
                {
                    case MessageType.SiftRequest: HandleSift(message.Span); break;
                    case MessageType.BlockStart: HandleBlockStart(message.Span); break;
                    case MessageType.CorrectionStart: HandleCorrectionStart(message.Span); break;
                    case MessageType.ParityQueries: HandleParityQueries(message.Span); break;
                    case MessageType.VerificationRequest: HandleVerificationRequest(message.Span); break;
                    case MessageType.VerificationResult: HandleVerificationResult(message.Span); break;
                    case MessageType.BlockDone: HandleBlockDone(message.Span); break;
                    case MessageType.Goodbye:
                        var reader = new ProtocolReader(message.Span, MessageType.Goodbye);
                        return reader.ReadString("reason");
                    default:
                        throw new ProtocolException($"Alice cannot handle a {ProtocolReader.DescribeType((byte)type)} message.");
                }
                if (_writer.Message.Length > 0 && _pendingReply)
                {
                    _pendingReply = false;
                    await _channel.SendAsync(_writer.Message, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            DiscardBlock();
            foreach (var buffer in _sifted) buffer.Zeroise();
        }
    }

    private bool _pendingReply;

    private ProtocolWriter Reply(MessageType type)
    {
        _pendingReply = true;
        return _writer.Begin(type);
    }

    private void HandleSift(ReadOnlySpan<byte> message)
    {
        var reader = new ProtocolReader(message, MessageType.SiftRequest);
        int count = reader.ReadCount("detection count", DistillationOptions.MaxSiftBatchSize);
        var pulses = new long[count];
        long previous = _lastPulse;
        for (int i = 0; i < count; i++)
        {
            long delta = reader.ReadVarInt64("pulse delta");
            long pulse = i == 0 ? delta : previous + delta;
            if (pulse <= previous)
                throw new ProtocolException($"Sift request repeats or reorders pulse {pulse} (after pulse {previous}); detections must be strictly increasing.");
            pulses[i] = pulse;
            previous = pulse;
        }
        var bases = new byte[count];
        int basisCount = reader.ReadPacked("bases", 1, bases);
        if (basisCount != count)
            throw new ProtocolException($"Sift request lists {count} pulses but {basisCount} bases.");
        reader.EnsureEnd(MessageType.SiftRequest);
        _lastPulse = previous;

        var keep = new byte[count];
        var intensities = new byte[count];
        for (int i = 0; i < count; i++)
        {
            PulseSymbol symbol = _symbols.SymbolAt(pulses[i]);
            intensities[i] = (byte)symbol.Intensity;
            Sifting.CountDetection(symbol.Intensity);
            if ((byte)symbol.Basis == bases[i])
            {
                keep[i] = 1;
                _sifted[(int)symbol.Basis].Append(symbol.Bit, symbol.Intensity);
                Sifting.CountSifted(symbol.Basis, symbol.Intensity);
            }
        }
        var w = Reply(MessageType.SiftResponse);
        w.WritePacked(keep, 1);
        w.WritePacked(intensities, 2);
    }

    private void HandleBlockStart(ReadOnlySpan<byte> message)
    {
        var reader = new ProtocolReader(message, MessageType.BlockStart);
        long blockId = reader.ReadVarInt64("block id");
        long zCount = reader.ReadVarInt64("Z count", _sifted[0].Count);
        long xCount = reader.ReadVarInt64("X count", _sifted[1].Count);
        PackedBits bobX = reader.ReadBits("Bob's X bits", xCount);
        reader.EnsureEnd(MessageType.BlockStart);
        if (bobX.Length != xCount)
            throw new ProtocolException($"Block {blockId}: Bob sent {bobX.Length} X bits for {xCount} X records.");
        if (_block is not null)
            throw new ProtocolException($"Block {blockId} started while block {_block.BlockId} is still open.");

        var (zBits, zIntensities) = _sifted[0].TakeFront(zCount);
        var (xBits, xIntensities) = _sifted[1].TakeFront(xCount);
        long[] errorsX = BlockMath.ErrorsPerIntensity(xBits, bobX, xIntensities);
        long[] siftedZ = BlockMath.CountPerIntensity(zIntensities);
        long[] siftedX = BlockMath.CountPerIntensity(xIntensities);
        var bounds = DecoyStateEstimator.Estimate(BlockMath.Statistics(_options, siftedZ, siftedX, errorsX), _options.Security);
        var verdict = BlockMath.Verdict(_options, xCount, errorsX, bounds, zCount);

        var w = Reply(MessageType.ParameterEstimate);
        w.WriteVarInt64(blockId);
        foreach (long e in errorsX) w.WriteVarInt64(e);
        w.WriteByte(verdict is null ? (byte)0 : (byte)1);

        if (verdict is null)
            _block = new BlockState(blockId, zBits, zIntensities, bounds);
        else
            zBits.Clear();
    }

    private void HandleCorrectionStart(ReadOnlySpan<byte> message)
    {
        var reader = new ProtocolReader(message, MessageType.CorrectionStart);
        var block = RequireBlock(reader.ReadVarInt64("block id"));
        long frameCount = reader.ReadVarInt64("frame count");
        double qber = reader.ReadDouble("QBER estimate");
        reader.EnsureEnd(MessageType.CorrectionStart);
        if (block.Frames.Count > 0)
            throw new ProtocolException($"Block {block.BlockId}: error correction started twice.");
        int expectedFrames = BlockMath.FrameCount(block.Key.Length, _options.FrameSizeBits);
        if (frameCount != expectedFrames)
            throw new ProtocolException($"Block {block.BlockId}: Bob corrects {frameCount} frames, Alice splits its {block.Key.Length} bits into {expectedFrames} (do both ends use the same frame size?).");
        if (!(qber > 0 && qber <= 0.25))
            throw new ProtocolException($"Block {block.BlockId}: QBER estimate {qber} outside (0, 0.25].");

        var w = Reply(MessageType.CorrectionSeed);
        w.WriteVarInt64(block.BlockId);
        w.WriteVarInt64(expectedFrames);
        for (int f = 0; f < expectedFrames; f++)
        {
            long start = BlockMath.FrameStart(block.Key.Length, expectedFrames, f);
            int length = (int)(BlockMath.FrameStart(block.Key.Length, expectedFrames, f + 1) - start);
            ulong seed = _random.NextUInt64();
            PackedBits frameBits = block.Key.Slice(start, length);
            block.FrameBits.Add(frameBits);
            block.Frames.Add(new CascadeResponder(frameBits, CascadeSchedule.Create(length, qber, seed, _options.Cascade)));
            w.WriteUInt64(seed);
        }
        if (_groupFrames.Length < expectedFrames)
        {
            _groupFrames = new int[expectedFrames];
            _groupOffsets = new int[expectedFrames + 1];
        }
    }

    private const int MaximumQueriesPerRound = 1 << 26;
    private ParityQuery[] _queries = new ParityQuery[1024];
    private byte[] _parities = new byte[1024];
    // One round's groups: the frame of each, and where its queries start in _queries (one past the end for the last).
    private int[] _groupFrames = new int[16];
    private int[] _groupOffsets = new int[17];

    private void HandleParityQueries(ReadOnlySpan<byte> message)
    {
        var reader = new ProtocolReader(message, MessageType.ParityQueries);
        var block = RequireBlock(reader.ReadVarInt64("block id"));
        int frameCount = block.Frames.Count;
        if (frameCount == 0)
            throw new ProtocolException($"Block {block.BlockId}: parity queries before error correction started.");
        long groups = reader.ReadVarInt64("frame group count");
        if (groups < 1 || groups > frameCount)
            throw new ProtocolException($"Block {block.BlockId}: parity queries for {groups} frames; a round names 1 to {frameCount}.");
        int total = 0;
        for (int g = 0; g < groups; g++)
        {
            long frame = reader.ReadVarInt64("frame index");
            if (frame >= frameCount)
                throw new ProtocolException($"Block {block.BlockId}: parity queries for frame {frame}; the block has frames 0..{frameCount - 1}.");
            if (g > 0 && frame <= _groupFrames[g - 1])
                throw new ProtocolException($"Block {block.BlockId}: frame {frame} follows frame {_groupFrames[g - 1]} in one round; frames must be listed once each, in increasing order.");
            int count = reader.ReadCount("query count", MaximumQueriesPerRound - total);
            if (count == 0)
                throw new ProtocolException($"Block {block.BlockId}: frame {frame} is listed with no parity queries.");
            if (_queries.Length < total + count)
            {
                Array.Resize(ref _queries, Math.Max(total + count, _queries.Length * 2));
                _parities = new byte[_queries.Length];
            }
            for (int i = total; i < total + count; i++)
            {
                int pass = reader.ReadCount("pass", 1 << 16);
                int start = reader.ReadCount("start", int.MaxValue);
                int length = reader.ReadCount("length", int.MaxValue);
                _queries[i] = new ParityQuery(pass, start, length);
            }
            _groupFrames[g] = (int)frame;
            _groupOffsets[g] = total;
            total += count;
        }
        _groupOffsets[groups] = total;
        reader.EnsureEnd(MessageType.ParityQueries);

        // The whole round is checked before any frame discloses a parity.
        int frameIndex = 0;
        try
        {
            for (int g = 0; g < groups; g++)
            {
                frameIndex = _groupFrames[g];
                block.Frames[frameIndex].Check(GroupQueries(g));
            }
        }
        catch (ArgumentException e)
        {
            throw new ProtocolException($"Block {block.BlockId} frame {frameIndex}: invalid parity query: {e.Message}");
        }
        var w = Reply(MessageType.ParityAnswers);
        w.WriteVarInt64(block.BlockId);
        w.WriteVarInt64(groups);
        for (int g = 0; g < groups; g++)
        {
            var parities = _parities.AsSpan(_groupOffsets[g], _groupOffsets[g + 1] - _groupOffsets[g]);
            block.Frames[_groupFrames[g]].Answer(GroupQueries(g), parities);
            w.WriteVarInt64(_groupFrames[g]);
            w.WritePacked(parities, 1);
        }
    }

    private ReadOnlySpan<ParityQuery> GroupQueries(int group) =>
        _queries.AsSpan(_groupOffsets[group], _groupOffsets[group + 1] - _groupOffsets[group]);

    private void HandleVerificationRequest(ReadOnlySpan<byte> message)
    {
        var reader = new ProtocolReader(message, MessageType.VerificationRequest);
        var block = RequireBlock(reader.ReadVarInt64("block id"));
        long bobLeak = reader.ReadVarInt64("leaked bits");
        reader.EnsureEnd(MessageType.VerificationRequest);
        if (block.Frames.Count == 0)
            throw new ProtocolException($"Block {block.BlockId}: verification requested before error correction started.");
        long disclosed = block.Frames.Sum(f => f.ParitiesDisclosed);
        if (bobLeak != disclosed)
            throw new ProtocolException($"Block {block.BlockId}: Bob counts {bobLeak} leaked parities, Alice disclosed {disclosed}.");
        block.LeakedBits = disclosed;

        int lanes = PolynomialHash.LanesFor(block.Key.Length, _options.Security.EpsilonCorrectness);
        ulong[] keys = PolynomialHash.DrawKeys(_random, lanes);
        ulong[] tag = PolynomialHash.ComputeTag(block.Key, keys);
        block.TagBits = lanes * PolynomialHash.BitsPerLane;
        var w = Reply(MessageType.VerificationTag);
        w.WriteVarInt64(block.BlockId);
        w.WriteVarInt64(lanes);
        foreach (ulong k in keys) w.WriteUInt64(k);
        foreach (ulong t in tag) w.WriteUInt64(t);
    }

    private void HandleVerificationResult(ReadOnlySpan<byte> message)
    {
        var reader = new ProtocolReader(message, MessageType.VerificationResult);
        var block = RequireBlock(reader.ReadVarInt64("block id"));
        bool match = reader.ReadByte("match") == 1;
        reader.EnsureEnd(MessageType.VerificationResult);
        if (!match)
        {
            DiscardBlock();
            return; // Bob aborts the block; nothing more to say.
        }

        var length = FiniteKeyLength.Compute(block.Bounds, block.LeakedBits, block.TagBits, _options.Security);
        var w = Reply(MessageType.AmplificationSeed);
        w.WriteVarInt64(block.BlockId);
        w.WriteVarInt64(Math.Max(0, length.SecretBits));
        if (length.SecretBits <= 0)
        {
            DiscardBlock();
            return;
        }
        Span<byte> seed = stackalloc byte[32];
        _random.Fill(seed);
        w.WriteBytes(seed);
        var toeplitz = ToeplitzSeed.Expand(seed, block.Key.Length + length.SecretBits - 1);
        block.SecretKey = ToeplitzHash.Apply(block.Key, length.SecretBits, toeplitz);
    }

    private void HandleBlockDone(ReadOnlySpan<byte> message)
    {
        var reader = new ProtocolReader(message, MessageType.BlockDone);
        var block = RequireBlock(reader.ReadVarInt64("block id"));
        bool stored = reader.ReadByte("stored") == 1;
        reader.EnsureEnd(MessageType.BlockDone);
        if (stored && block.SecretKey is not null)
        {
            _keySink.Accept(block.BlockId, block.SecretKey);
            SecretBits += block.SecretKey.Length;
        }
        DiscardBlock();
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
        public long LeakedBits { get; set; }
        public int TagBits { get; set; }
        public PackedBits? SecretKey { get; set; }
    }
}
