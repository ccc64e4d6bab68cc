using System.Numerics;

namespace Qkd.Core.Random;

/// <summary>
/// The Adaptive Proportion Test of NIST SP 800-90B section 4.4.2: it takes the first sample of each window of W samples
/// as A, counts how many of the window's samples (the first included) equal A, and trips when the count B reaches the
/// cutoff C, the signature of a source that produces one value far more often than its claimed entropy allows (a
/// biased source). Windows do not overlap: after W samples the next sample starts a new window.
/// </summary>
/// <remarks>
/// W = 1024 for binary samples and 512 for non-binary ones (section 4.4.2). The cutoff is
/// C = 1 + CRITBINOM(W, 2^−H, 1 − α): one more than the smallest k for which a binomial variable with W trials and
/// success probability 2^−H (the largest probability a value may have if each sample carries H bits of min-entropy)
/// is at most k with probability at least 1 − α. Not thread-safe; one owner feeds it samples in order.
/// </remarks>
public sealed class AdaptiveProportionTest
{
    /// <summary>W for binary samples (SP 800-90B section 4.4.2).</summary>
    public const int BinaryWindow = 1024;

    /// <summary>W for non-binary samples (SP 800-90B section 4.4.2).</summary>
    public const int NonBinaryWindow = 512;

    private int _value;
    private int _count;
    private int _position;

    /// <param name="windowSize">W, at least 2.</param>
    /// <param name="cutoff">C, 2 .. W + 1 (W + 1: the test can never trip, as CRITBINOM allows for very low entropy).</param>
    public AdaptiveProportionTest(int windowSize, int cutoff)
    {
        if (windowSize < 2) throw new ArgumentOutOfRangeException(nameof(windowSize), windowSize, "The window must hold at least 2 samples.");
        if (cutoff < 2 || cutoff > windowSize + 1)
            throw new ArgumentOutOfRangeException(nameof(cutoff), cutoff, $"The adaptive proportion cutoff must be 2..{windowSize + 1} for a window of {windowSize}.");
        WindowSize = windowSize;
        Cutoff = cutoff;
    }

    /// <summary>The window SP 800-90B section 4.4.2 prescribes for a kind of sample.</summary>
    public static int WindowFor(EntropySampleKind samples) => samples switch
    {
        EntropySampleKind.Binary => BinaryWindow,
        EntropySampleKind.Byte => NonBinaryWindow,
        _ => throw new ArgumentOutOfRangeException(nameof(samples), samples, "Unknown sample kind."),
    };

    /// <summary>
    /// C = 1 + CRITBINOM(W, 2^−H, 1 − α) (SP 800-90B section 4.4.2) for α = 2^−<paramref name="alphaExponent"/>,
    /// H = <paramref name="minEntropyPerSample"/> bits and W = <paramref name="windowSize"/>. For α = 2^−20 this gives
    /// the standard's table: 589 for binary samples at H = 1; 311, 177, 62 and 13 for non-binary samples at H = 1, 2, 4, 8.
    /// </summary>
    public static int CutoffFor(double minEntropyPerSample, int alphaExponent, int windowSize)
    {
        if (!(minEntropyPerSample > 0) || double.IsInfinity(minEntropyPerSample))
            throw new ArgumentOutOfRangeException(nameof(minEntropyPerSample), minEntropyPerSample, "The min-entropy per sample must be > 0 bits.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(alphaExponent);
        if (windowSize < 2) throw new ArgumentOutOfRangeException(nameof(windowSize), windowSize, "The window must hold at least 2 samples.");
        return 1 + CriticalBinomial(windowSize, Math.Pow(2, -minEntropyPerSample), Math.Pow(2, -alphaExponent));
    }

    /// <summary>
    /// CRITBINOM(n, p, 1 − α): the smallest k with P(X ≤ k) ≥ 1 − α for X ~ Binomial(n, p), found as the smallest k
    /// whose upper tail P(X > k) is at most α. The tail is summed from the top, smallest terms first, with each term
    /// from log-space binomial coefficients, so that tails near 2^−64 keep full double precision (1 − α itself would
    /// round to 1 long before that).
    /// </summary>
    internal static int CriticalBinomial(int n, double p, double alpha)
    {
        double logP = Math.Log(p);
        double logQ = Math.Log(1 - p);
        // log C(n, j) for j = n .. 0, built downward from log C(n, n) = 0: C(n, j − 1) = C(n, j) · j / (n − j + 1).
        double logChoose = 0;
        double tail = 0; // P(X > j) before term j is added
        for (int j = n; j >= 0; j--)
        {
            double withTerm = tail + Math.Exp(logChoose + j * logP + (n - j) * logQ); // P(X ≥ j) = P(X > j − 1)
            if (withTerm > alpha) return j;                                              // P(X > j) ≤ α, P(X > j − 1) > α
            tail = withTerm;
            if (j > 0) logChoose += Math.Log((double)j / (n - j + 1));
        }
        return 0;
    }

    /// <summary>W: samples per window.</summary>
    public int WindowSize { get; }

    /// <summary>C: the count of the window's first value that trips the test.</summary>
    public int Cutoff { get; }

    /// <summary>A: the first value of the current window (meaningless at a window start).</summary>
    public int Value => _value;

    /// <summary>B: how many samples of the current window so far equal A (0 at a window start).</summary>
    public int Count => _position == 0 ? 0 : _count;

    /// <summary>Samples of the current window seen so far (0 at a window start).</summary>
    public int Position => _position;

    /// <summary>Abandons the current window: the next sample starts a new one (after a gap in the samples, or a failure).</summary>
    public void Reset() => _position = 0;

    /// <summary>One sample; true when it makes the count of the window's first value reach <see cref="Cutoff"/>.</summary>
    public bool Add(int sample)
    {
        if (_position == 0)
        {
            _value = sample;
            _count = 1;
            _position = 1;
            return false;
        }
        _position++;
        if (sample == _value && ++_count >= Cutoff) return true;
        if (_position == WindowSize) _position = 0;
        return false;
    }

    /// <summary>
    /// Binary samples <paramref name="from"/> .. <paramref name="to"/> − 1 of <paramref name="data"/> (bits, least
    /// significant first): the index of the first sample that trips the test, or −1. Matches are counted with a
    /// population count per word; only a word that trips the test is searched for the exact sample.
    /// </summary>
    public long ScanBits(ReadOnlySpan<byte> data, long from, long to)
    {
        RepetitionCountTest.CheckRange(data.Length * 8L, from, to);
        long bit = from;
        while (bit < to)
        {
            if (_position == 0)
            {
                _value = PackedSamples.At(data, bit);
                _count = 1;
                _position = 1;
                bit++;
                continue;
            }
            ulong word = PackedSamples.Load(data, bit, to, out int n);
            n = Math.Min(n, WindowSize - _position);
            ulong inWindow = n == 64 ? ulong.MaxValue : (1UL << n) - 1;
            ulong matching = (_value == 1 ? word : ~word) & inWindow;
            int matches = BitOperations.PopCount(matching);
            if (_count + matches >= Cutoff)
            {
                // The (C − B)-th matching sample of this word is the one that trips the test.
                for (int k = Cutoff - _count; k > 1; k--) matching &= matching - 1;
                int at = BitOperations.TrailingZeroCount(matching);
                _count = Cutoff;
                _position += at + 1;
                return bit + at;
            }
            _count += matches;
            _position += n;
            bit += n;
            if (_position == WindowSize) _position = 0;
        }
        return -1;
    }

    /// <summary>Byte samples <paramref name="from"/> .. <paramref name="to"/> − 1: the index of the first that trips the test, or −1.</summary>
    public long ScanBytes(ReadOnlySpan<byte> data, long from, long to)
    {
        RepetitionCountTest.CheckRange(data.Length, from, to);
        for (long i = from; i < to; i++)
            if (Add(data[(int)i])) return i;
        return -1;
    }
}
