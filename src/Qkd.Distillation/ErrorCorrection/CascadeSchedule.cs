using Qkd.Core.Random;

namespace Qkd.Distillation.ErrorCorrection;

/// <summary>
/// Everything both ends must agree on to reconcile one frame: its length, the QBER estimate the block sizes were
/// chosen for, and every pass's block size and order. The orders derive deterministically from a 64-bit seed that
/// Alice picks and sends in the clear, so the schedule is rebuilt identically on both sides. Immutable and safe
/// to share between threads (and, in process, between the two ends).
/// </summary>
public sealed class CascadeSchedule
{
    /// <summary>Shortest frame Cascade is run on.</summary>
    public const int MinimumFrameLength = 64;

    /// <summary>Longest frame accepted (keeps every tree index in an int); longer keys are split into frames.</summary>
    public const int MaximumFrameLength = 1 << 27;

    /// <summary>Highest QBER estimate accepted; above it no key survives anyway.</summary>
    public const double MaximumQberEstimate = 0.25;

    private readonly CascadePassLayout[] _layouts;
    private readonly CascadePermutation?[] _permutations;

    private CascadeSchedule(int frameLength, double qberEstimate, ulong seed, CascadeOptions options, int[] blockSizes)
    {
        FrameLength = frameLength;
        QberEstimate = qberEstimate;
        Seed = seed;
        Options = options;
        _layouts = new CascadePassLayout[blockSizes.Length];
        _permutations = new CascadePermutation?[blockSizes.Length];
        for (int pass = 0; pass < blockSizes.Length; pass++)
            _layouts[pass] = new CascadePassLayout(frameLength, blockSizes[pass]);
    }

    /// <summary>Builds the schedule for one frame.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Frame length outside [<see cref="MinimumFrameLength"/>, <see cref="MaximumFrameLength"/>] or QBER
    /// estimate outside (0, <see cref="MaximumQberEstimate"/>].</exception>
    public static CascadeSchedule Create(int frameLength, double qberEstimate, ulong seed, CascadeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (frameLength is < MinimumFrameLength or > MaximumFrameLength)
            throw new ArgumentOutOfRangeException(nameof(frameLength), frameLength, $"Cascade frames hold {MinimumFrameLength}..{MaximumFrameLength} bits.");
        if (!(qberEstimate > 0 && qberEstimate <= MaximumQberEstimate))
            throw new ArgumentOutOfRangeException(nameof(qberEstimate), qberEstimate, $"The QBER estimate must lie in (0, {MaximumQberEstimate}].");
        options.Validate();
        return new CascadeSchedule(frameLength, qberEstimate, seed, options, BlockSizes(frameLength, qberEstimate, options));
    }

    public int FrameLength { get; }

    public double QberEstimate { get; }

    public ulong Seed { get; }

    public CascadeOptions Options { get; }

    /// <summary>Passes in the schedule: the growing passes and the most final passes Bob may run.</summary>
    public int PassCount => _layouts.Length;

    /// <summary>Block size of pass <paramref name="pass"/> (the last block of a pass may be shorter).</summary>
    public int BlockSize(int pass) => Layout(pass).BlockSize;

    /// <summary>Number of blocks of pass <paramref name="pass"/>.</summary>
    public int BlockCount(int pass) => Layout(pass).BlockCount;

    /// <summary>
    /// The order pass <paramref name="pass"/> reads the frame in. Built on first use, since a run usually ends
    /// well before the last final pass; building is deterministic, so a race between threads is harmless.
    /// </summary>
    public CascadePermutation Permutation(int pass)
    {
        CheckPass(pass);
        var permutation = Volatile.Read(ref _permutations[pass]);
        if (permutation is null)
        {
            permutation = CreatePermutation(pass);
            permutation = Interlocked.CompareExchange(ref _permutations[pass], permutation, null) ?? permutation;
        }
        return permutation;
    }

    /// <summary>Whether pass <paramref name="pass"/> is a final (half-frame, confirming) pass.</summary>
    public bool IsFinalPass(int pass)
    {
        CheckPass(pass);
        return pass >= Options.GrowingPassCount;
    }

    internal CascadePassLayout Layout(int pass)
    {
        CheckPass(pass);
        return _layouts[pass];
    }

    /// <summary>
    /// The block-size rule: k1 = 2^ceil(log2(1/q) + offset) (at least the minimum), then growth by 2^g per pass,
    /// then the final half-frame passes; nothing exceeds half the frame, since a single block would only repeat
    /// the frame parity that the first pass already revealed.
    /// </summary>
    internal static int[] BlockSizes(int frameLength, double qberEstimate, CascadeOptions options)
    {
        int half = (frameLength + 1) / 2;
        double exponent = Math.Ceiling(Math.Log2(1 / qberEstimate) + options.FirstBlockExponentOffset);
        long first = (long)Math.Pow(2, Math.Clamp(exponent, 1, 30));
        first = Math.Min(Math.Max(first, options.MinimumBlockSize), half);
        var sizes = new int[options.GrowingPassCount + options.MaximumFinalPassCount];
        long size = first;
        for (int pass = 0; pass < options.GrowingPassCount; pass++)
        {
            sizes[pass] = (int)Math.Min(size, half);
            size = Math.Min(size << options.BlockGrowthExponent, half);
        }
        for (int pass = options.GrowingPassCount; pass < sizes.Length; pass++)
            sizes[pass] = half;
        return sizes;
    }

    private CascadePermutation CreatePermutation(int pass)
    {
        if (pass == 0 && !Options.PermuteFirstPass) return new IdentityPermutation(FrameLength);
        // Every pass draws from its own named stream, so passes do not depend on each other's consumption.
        var random = Xoshiro256StarStar.ForStream(Seed, $"cascade/pass/{pass}");
        if (IsFinalPass(pass)) return new HalfSubsetPermutation(FrameLength, random);
        return Options.Permutation != CascadePermutationKind.Shuffle && FrameLength >= TransposeMixPermutation.MinimumLength
            ? new TransposeMixPermutation(FrameLength, random)
            : new ShufflePermutation(FrameLength, random);
    }

    private void CheckPass(int pass)
    {
        if ((uint)pass >= (uint)_layouts.Length)
            throw new ArgumentOutOfRangeException(nameof(pass), pass, $"The schedule has passes 0..{_layouts.Length - 1}.");
    }
}
