using BenchmarkDotNet.Attributes;
using Qkd.Core.Bits;
using Qkd.Core.Random;
using Qkd.Distillation.ErrorCorrection.Ldpc;
using Qkd.Reference;

namespace Qkd.Benchmarks;

/// <summary>
/// Bob's decoding of one 92,160-bit frame (n = 102,400) from the first syndrome, the decoder alone: the former
/// decoder (<see cref="ReferenceLayeredDecoder"/>, sum of phi = -ln tanh(x/2), two exp and two log per edge) as the
/// baseline beside <see cref="LayeredDecoder"/> (tanh products, one exp and one log per edge), on the same code,
/// priors and syndrome, so the ratio is measured in one run. Frames at QBER q with the plan of the family's table.
/// </summary>
[MemoryDiagnoser]
public class LdpcDecoderBenchmarks
{
    private const int FrameBits = LdpcCodeFamily.MaximumFrameBits;

    private LdpcFramePlan _plan = null!;
    private byte[] _syndrome = null!;
    private float[] _prior = null!;
    private LayeredDecoder _decoder = null!;
    private ReferenceLayeredDecoder _reference = null!;

    [Params(0.02, 0.06)]
    public double Qber { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Xoshiro256StarStar(77);
        var words = new ulong[PackedBits.WordCount(FrameBits)];
        for (int i = 0; i < words.Length; i++) words[i] = random.NextUInt64();
        var alice = PackedBits.FromWords(words, FrameBits);
        var bob = alice.Clone();
        for (int i = 0; i < FrameBits; i++)
            if (random.NextDouble() < Qber) bob.Flip(i);
        _plan = LdpcCodeFamily.Plan(FrameBits, Qber, LdpcOptions.Default);
        var responder = new LdpcResponder(alice, _plan, random);
        _syndrome = new byte[_plan.Code.Checks];
        for (int i = 0; i < _syndrome.Length; i++) _syndrome[i] = (byte)responder.Syndrome.GetBit(i);
        var code = _plan.Code;
        float llr = (float)Math.Log((1 - Qber) / Qber);
        _prior = new float[code.Length];
        for (int i = _plan.Punctured; i < _plan.Punctured + _plan.Shortened; i++) _prior[code.PositionOrder[i]] = 60f;
        for (int i = 0; i < _plan.KeyPositions.Length; i++) _prior[_plan.KeyPositions[i]] = bob.GetBit(i) == 0 ? llr : -llr;
        _decoder = new LayeredDecoder(code);
        _reference = new ReferenceLayeredDecoder(code);
        Console.WriteLine($"// QBER {Qber:P0}: new decoder {Iterations(false)} iterations, reference {Iterations(true)}");
    }

    [Benchmark(Baseline = true, Description = "Reference decoder (phi sums)")]
    public int Reference() => Iterations(true);

    [Benchmark(Description = "LayeredDecoder (tanh products)")]
    public int Decoder() => Iterations(false);

    private int Iterations(bool reference)
    {
        int iterations;
        if (reference)
        {
            _prior.CopyTo(_reference.Prior);
            iterations = _reference.Decode(_syndrome, LdpcOptions.Default.MaxIterations);
        }
        else
        {
            _prior.CopyTo(_decoder.Prior);
            iterations = _decoder.Decode(_syndrome, LdpcOptions.Default.MaxIterations);
        }
        if (iterations < 0) throw new InvalidOperationException($"The frame at QBER {Qber} did not decode ({(reference ? "reference" : "new")} decoder).");
        return iterations;
    }
}
