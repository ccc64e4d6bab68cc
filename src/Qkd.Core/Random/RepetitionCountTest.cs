using System.Numerics;

namespace Qkd.Core.Random;

/// <summary>
/// The Repetition Count Test of NIST SP 800-90B section 4.4.1: it counts how many times in a row the current sample
/// value repeats and trips when the run reaches the cutoff C, the signature of a stuck source. In the standard's words:
/// A is the current sample value and B its count, starting at 1; for each next sample, if it equals A then B is
/// incremented and the test fails when B = C, otherwise A becomes the new value and B restarts at 1.
/// </summary>
/// <remarks>
/// The cutoff is C = 1 + ⌈−log2(α) / H⌉ for a false-positive probability α per sample and a claimed min-entropy of H
/// bits per sample (section 4.4.1): a run of C identical samples has probability at most 2^(−H(C−1)) ≤ α from a source
/// that really has H bits of min-entropy per sample. Not thread-safe; one owner feeds it samples in order.
/// </remarks>
public sealed class RepetitionCountTest
{
    private int _value;
    private int _count;

    /// <param name="cutoff">C, at least 2 (a run of one is no repetition).</param>
    public RepetitionCountTest(int cutoff)
    {
        if (cutoff < 2) throw new ArgumentOutOfRangeException(nameof(cutoff), cutoff, "The repetition count cutoff must be at least 2.");
        Cutoff = cutoff;
    }

    /// <summary>
    /// C = 1 + ⌈−log2(α) / H⌉ (SP 800-90B section 4.4.1), for α = 2^−<paramref name="alphaExponent"/> and
    /// H = <paramref name="minEntropyPerSample"/> bits. The standard's example: α = 2^−20, H = 2 gives C = 11.
    /// </summary>
    public static int CutoffFor(double minEntropyPerSample, int alphaExponent)
    {
        if (!(minEntropyPerSample > 0) || double.IsInfinity(minEntropyPerSample))
            throw new ArgumentOutOfRangeException(nameof(minEntropyPerSample), minEntropyPerSample, "The min-entropy per sample must be > 0 bits.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(alphaExponent);
        double cutoff = 1 + Math.Ceiling(alphaExponent / minEntropyPerSample);
        if (cutoff > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(minEntropyPerSample), minEntropyPerSample, $"A min-entropy of {minEntropyPerSample} bits gives a cutoff beyond any run this test can count.");
        return (int)cutoff;
    }

    /// <summary>C: the run length that trips the test.</summary>
    public int Cutoff { get; }

    /// <summary>A: the value of the current run (meaningless before the first sample).</summary>
    public int Value => _value;

    /// <summary>B: the length of the current run, 0 before the first sample.</summary>
    public int Count => _count;

    /// <summary>Forgets the current run: the next sample starts a new one (after a gap in the samples, or a failure).</summary>
    public void Reset() => _count = 0;

    /// <summary>One sample; true when it completes a run of <see cref="Cutoff"/> identical samples (the test fails).</summary>
    public bool Add(int sample)
    {
        if (_count > 0 && sample == _value) return ++_count >= Cutoff;
        _value = sample;
        _count = 1;
        return false;
    }

    /// <summary>
    /// Binary samples <paramref name="from"/> .. <paramref name="to"/> − 1 of <paramref name="data"/> (bits, least
    /// significant first): the index of the first sample that trips the test, or −1. A word of 64 samples costs a few
    /// instructions: the run is measured with a trailing-zero count instead of sample by sample.
    /// </summary>
    public long ScanBits(ReadOnlySpan<byte> data, long from, long to)
    {
        CheckRange(data.Length * 8L, from, to);
        long bit = from;
        while (bit < to)
        {
            if (_count == 0)
            {
                _value = PackedSamples.At(data, bit);
                _count = 1;
                bit++;
                continue;
            }
            ulong word = PackedSamples.Load(data, bit, to, out int n);
            // Set where a sample differs from A; the bits above n are 0 in the word, so for A = 1 they count as different.
            ulong differ = _value == 0 ? word : ~word;
            int same = Math.Min(n, BitOperations.TrailingZeroCount(differ));
            if (_count + same >= Cutoff)
            {
                long failing = bit + (Cutoff - _count) - 1;
                _count = Cutoff;
                return failing;
            }
            _count += same;
            if (same == n)
            {
                bit += n;
                continue;
            }
            _value ^= 1;
            _count = 1;
            bit += same + 1;
        }
        return -1;
    }

    /// <summary>Byte samples <paramref name="from"/> .. <paramref name="to"/> − 1: the index of the first that trips the test, or −1.</summary>
    public long ScanBytes(ReadOnlySpan<byte> data, long from, long to)
    {
        CheckRange(data.Length, from, to);
        for (long i = from; i < to; i++)
            if (Add(data[(int)i])) return i;
        return -1;
    }

    internal static void CheckRange(long samples, long from, long to)
    {
        if (from < 0 || to < from || to > samples)
            throw new ArgumentOutOfRangeException(nameof(from), $"Samples {from}..{to} are outside the {samples} samples given.");
    }
}
