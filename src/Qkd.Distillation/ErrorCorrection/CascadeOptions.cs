namespace Qkd.Distillation.ErrorCorrection;

/// <summary>
/// Tuning of Cascade: the block-size schedule and how the per-pass orders are drawn. Both ends must use equal
/// options (they are part of the schedule). The defaults follow Martinez-Mateo, Pacher, Peev, Ciurana and Martin,
/// "Demystifying the information reconciliation protocol Cascade" (QIC 15, 2015), their option (8) in particular:
/// power-of-two blocks sized to the QBER (k1 = 64 at 2%), growing eightfold per pass (512, 4096, ...), then final
/// passes with two blocks of half the frame in a fresh random order (a BICONF check, Buttler et al. 2003, as Yan
/// et al. 2008 use it, cast as ordinary passes), with every parity ever learned kept and reused.
/// </summary>
/// <remarks>
/// Measured with the defaults (i.i.d. errors, estimate = actual QBER): f = leaked / (n h2(q)) is about 1.03 at
/// 1-2% and 1.05 at 5% on 10^6-bit frames, 1.04 at 2% on 10^5 bits and 1.06 on 10^4 bits, with about a thousand
/// rounds per 10^6-bit frame at 1-2% (fewer at higher QBER). Smaller first blocks trade leakage for rounds: an
/// offset of -1.5 gives f of about 1.046 with under 300 rounds at 2% on 10^6 bits.
/// </remarks>
public sealed record CascadeOptions
{
    /// <summary>The tuned defaults.</summary>
    public static CascadeOptions Default { get; } = new();

    /// <summary>
    /// First-pass block size k1 = 2^ceil(log2(1/q) + offset). The paper's choice is -0.5: a power of two between
    /// 0.71/q and 1.41/q bits, so that a binary search discloses exactly log2 k1 parities.
    /// </summary>
    public double FirstBlockExponentOffset { get; init; } = -0.5;

    /// <summary>Each growing pass multiplies the block size by 2^this.</summary>
    public int BlockGrowthExponent { get; init; } = 3;

    /// <summary>Passes with blocks k1, k1 2^g, k1 2^2g, ... (each capped at half the frame).</summary>
    public int GrowingPassCount { get; init; } = 4;

    /// <summary>
    /// Final passes have two blocks of half the frame each, in a fresh order: each one checks a random half-subset
    /// parity (the second block's parity follows from the total, so it costs one disclosed bit) and, if it is odd,
    /// corrects an error whose correction cascades back through the earlier passes. Bob stops once this many final
    /// passes in a row found nothing to correct: if errors were left, each such pass would have seen them with
    /// probability about 1/2, so the chance of leaving errors undetected is about 2^-this.
    /// </summary>
    public int ConfirmingPassCount { get; init; } = 16;

    /// <summary>Upper bound on the number of final passes (the schedule holds this many; Bob usually stops earlier).</summary>
    public int MaximumFinalPassCount { get; init; } = 40;

    /// <summary>Smallest block size used at high QBER estimates.</summary>
    public int MinimumBlockSize { get; init; } = 4;

    /// <summary>
    /// Whether the first pass reads the frame in a shuffled order too. Errors from a real link can come in bursts
    /// (a drifting interferometer, detector afterpulses), which consecutive-bit blocks would see as pairs.
    /// </summary>
    public bool PermuteFirstPass { get; init; } = true;

    /// <summary>How the pass orders are drawn.</summary>
    public CascadePermutationKind Permutation { get; init; } = CascadePermutationKind.TransposeMix;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent setting.</summary>
    public void Validate()
    {
        if (!double.IsFinite(FirstBlockExponentOffset) || Math.Abs(FirstBlockExponentOffset) > 8)
            throw new ArgumentOutOfRangeException(nameof(FirstBlockExponentOffset), FirstBlockExponentOffset, "Must be finite and within [-8, 8].");
        if (BlockGrowthExponent is < 1 or > 16)
            throw new ArgumentOutOfRangeException(nameof(BlockGrowthExponent), BlockGrowthExponent, "Must lie in 1..16.");
        if (GrowingPassCount is < 1 or > 32)
            throw new ArgumentOutOfRangeException(nameof(GrowingPassCount), GrowingPassCount, "Must lie in 1..32.");
        if (ConfirmingPassCount is < 0 or > 64)
            throw new ArgumentOutOfRangeException(nameof(ConfirmingPassCount), ConfirmingPassCount, "Must lie in 0..64.");
        if (MaximumFinalPassCount < ConfirmingPassCount || MaximumFinalPassCount > 256)
            throw new ArgumentOutOfRangeException(nameof(MaximumFinalPassCount), MaximumFinalPassCount, $"Must lie in {nameof(ConfirmingPassCount)}..256.");
        if (MinimumBlockSize is < 2 or > 1 << 20)
            throw new ArgumentOutOfRangeException(nameof(MinimumBlockSize), MinimumBlockSize, "Must lie in 2..2^20.");
        if (!Enum.IsDefined(Permutation))
            throw new ArgumentOutOfRangeException(nameof(Permutation), Permutation, "Unknown permutation kind.");
    }
}
