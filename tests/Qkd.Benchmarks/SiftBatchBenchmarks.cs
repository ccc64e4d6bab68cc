using BenchmarkDotNet.Attributes;
using Qkd.Core;
using Qkd.Core.Random;
using Qkd.Core.Symbols;
using Qkd.Distillation.Messages;
using Qkd.Distillation.Protocol;
using Qkd.Distillation.Sifting;
using Qkd.Reference;

namespace Qkd.Benchmarks;

/// <summary>
/// The whole per-detection sifting path of both ends for one sift batch (65,536 detections, the default
/// SiftBatchSize), without the channel: Bob packs his pulses and bases into a SiftRequest, Alice reads it, looks up
/// her symbols, compares bases, sorts her records and packs the SiftResponse; Bob reads it and sorts his records,
/// with his block bookkeeping. <see cref="Reference"/> is the per-detection code the batch kernels replaced
/// (<see cref="ReferenceSifting"/>), <see cref="PreChange"/> the batch kernels as they were before issue 14's one-pass
/// rewrite (tests/Shared/Reference/Pre*, the ratios' baseline), <see cref="Kernels"/> the product's code now.
/// One operation = one detection.
/// </summary>
[MemoryDiagnoser]
public class SiftBatchBenchmarks
{
    private const int BatchSize = 1 << 16;
    private Detection[] _detections = [];
    private SeededSymbolSource _alice = null!;
    private readonly ProtocolWriter _bobWriter = new(), _aliceWriter = new();
    private readonly long[] _bobPulses = new long[BatchSize], _alicePulses = new long[BatchSize];
    private readonly byte[] _bobBases = new byte[BatchSize], _bobBits = new byte[BatchSize], _aliceBases = new byte[BatchSize];
    private readonly byte[] _aliceKeep = new byte[BatchSize], _aliceClasses = new byte[BatchSize], _symbols = new byte[BatchSize];
    private readonly byte[] _bobKeep = new byte[BatchSize], _bobClasses = new byte[BatchSize];
    private readonly ulong[] _selected = new ulong[2 * BatchSize / 64];
    private readonly SiftedBuffer _aliceZ = new(), _aliceX = new(), _bobZ = new(), _bobX = new();
    private readonly PreSiftedBuffer _preAliceZ = new(), _preAliceX = new(), _preBobZ = new(), _preBobX = new();
    private PreSymbolLookup _preAlice = null!;

    [GlobalSetup]
    public void Setup()
    {
        _alice = new SeededSymbolSource(1, new SymbolDistribution(0.75, [0.65, 0.25, 0.10]));
        _preAlice = new PreSymbolLookup(1, new SymbolDistribution(0.75, [0.65, 0.25, 0.10]));
        IRandomSource rng = new Xoshiro256StarStar(2);
        _detections = new Detection[BatchSize];
        long pulse = 0;
        for (int i = 0; i < BatchSize; i++)
        {
            // About one detection in 50 pulses (the default 25 km link's 19 M detections a second at 1 GHz).
            pulse += 1 + rng.NextInt(100);
            _detections[i] = new Detection(pulse, rng.NextDouble() < 0.75 ? Basis.Z : Basis.X, (byte)(rng.NextUInt64() & 1));
        }
    }

    // The sifted buffers are emptied each batch (as blocks are cut), so they stay the same size from run to run.
    private void Drain()
    {
        _aliceZ.Zeroise();
        _aliceX.Zeroise();
        _bobZ.Zeroise();
        _bobX.Zeroise();
    }

    [Benchmark(OperationsPerInvoke = BatchSize)]
    public long Reference()
    {
        var stats = new SiftingStatistics();
        var blocks = new ReferenceSifting.BobBlocks(1 << 23);
        var batch = _detections.AsSpan();
        for (int i = 0; i < batch.Length; i++)
        {
            _bobPulses[i] = batch[i].PulseIndex;
            _bobBases[i] = (byte)batch[i].Basis;
        }
        var request = ReferenceSifting.WriteRequest(_bobWriter, _bobPulses, _bobBases);
        int count = ReferenceSifting.ReadRequest(request.Span, _alicePulses, _aliceBases);
        ReferenceSifting.AliceMatch(_alice, _alicePulses.AsSpan(0, count), _aliceBases.AsSpan(0, count), _aliceKeep, _aliceClasses, _aliceZ, _aliceX, stats);
        var response = ReferenceSifting.WriteResponse(_aliceWriter, _aliceKeep.AsSpan(0, count), _aliceClasses.AsSpan(0, count));
        ReferenceSifting.ReadResponse(response.Span, _bobKeep, _bobClasses);
        ReferenceSifting.BobSort(batch, _bobKeep, _bobClasses, _bobZ, _bobX, new SiftingStatistics(), blocks);
        long sifted = _bobZ.Count;
        Drain();
        return sifted;
    }

    /// <summary>The batch kernels before issue 14 (pre-change baseline copies): unpacked flags and classes, a copy per pass.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = BatchSize)]
    public long PreChange()
    {
        var stats = new SiftingStatistics();
        var blocks = new BlockBoundaries(1 << 23);
        var batch = _detections.AsSpan();
        for (int i = 0; i < batch.Length; i++)
        {
            _bobPulses[i] = batch[i].PulseIndex;
            _bobBases[i] = (byte)batch[i].Basis;
            _bobBits[i] = batch[i].Bit;
        }
        var request = new PreSiftRequest(_bobPulses, _bobBases).Write(_bobWriter);
        long[] pulses = _alicePulses;
        byte[] bases = _aliceBases;
        var read = PreSiftRequest.Read(request.Span, ref pulses, ref bases);
        int count = read.Count;
        _preAlice.PackedAt(read.Pulses.Span, _symbols);
        PreSiftKernel.Match(_symbols.AsSpan(0, count), read.Bases.Span, _aliceKeep, _aliceClasses);
        PreSiftKernel.Sort(_symbols, 0, _symbols, 1, _aliceKeep.AsSpan(0, count), _aliceClasses, _preAliceZ, _preAliceX, stats);
        var response = new PreSiftResponse(_aliceKeep.AsMemory(0, count), _aliceClasses.AsMemory(0, count)).Write(_aliceWriter);
        PreSiftResponse.Read(response.Span, _bobKeep, _bobClasses);
        PreSiftKernel.Sort(_bobBases, 0, _bobBits, 0, _bobKeep, _bobClasses, _preBobZ, _preBobX, new SiftingStatistics(), _selected);
        blocks.Advance(_selected, _bobPulses);
        long sifted = _preBobZ.Count;
        _preAliceZ.Zeroise();
        _preAliceX.Zeroise();
        _preBobZ.Zeroise();
        _preBobX.Zeroise();
        return sifted;
    }

    /// <summary>
    /// The product's path now: Bob's detections split as they are queued, Alice from the request's packed bases to the
    /// reply's packed lists in one pass, Bob from the packed reply.
    /// </summary>
    [Benchmark(OperationsPerInvoke = BatchSize)]
    public long Kernels()
    {
        var stats = new SiftingStatistics();
        var blocks = new BlockBoundaries(1 << 23);
        var batch = _detections.AsSpan();
        for (int i = 0; i < batch.Length; i++)
        {
            _bobPulses[i] = batch[i].PulseIndex;
            _bobBases[i] = (byte)batch[i].Basis;
            _bobBits[i] = batch[i].Bit;
        }
        var request = new SiftRequest(_bobPulses, _bobBases).Write(_bobWriter);
        long[] pulses = _alicePulses;
        int count = SiftRequest.ReadPulses(request.Span, ref pulses, out int basesAt);
        ((ISymbolSource)_alice).PackedAt(pulses.AsSpan(0, count), _symbols);
        SiftResponse.Reserve(_aliceWriter, count, out var kept, out var classes);
        SiftKernel.AliceSift(_symbols.AsSpan(0, count), request.Span.Slice(basesAt, (count + 7) / 8), kept, classes, _aliceZ, _aliceX, stats);
        var response = _aliceWriter.Message.Span;
        SiftResponse.ReadPacked(response, count, out int keptAt, out int classesAt);
        SiftKernel.BobSift(_bobBases, _bobBits, response[keptAt..], response[classesAt..], _bobZ, _bobX, new SiftingStatistics(), _selected);
        blocks.Advance(_selected, _bobPulses);
        long sifted = _bobZ.Count;
        Drain();
        return sifted;
    }
}
