namespace Qkd.Distillation.ErrorCorrection;

/// <summary>How the per-pass permutations are built (part of what both ends must agree on).</summary>
public enum CascadePermutationKind
{
    /// <summary><see cref="TransposeMix"/> for frames of at least <see cref="TransposeMixPermutation.MinimumLength"/> bits, <see cref="Shuffle"/> below.</summary>
    Auto = 0,

    /// <summary>Uniformly random (Fisher-Yates) with explicit index tables: exact, slower on long frames.</summary>
    Shuffle = 1,

    /// <summary>
    /// Two word-parallel rounds of word shuffle, rotation and bit-matrix transpose: several times faster, and in
    /// measurements as good for Cascade as a uniform shuffle (same efficiency, same failure rate). Frames shorter
    /// than <see cref="TransposeMixPermutation.MinimumLength"/> bits are shuffled instead.
    /// </summary>
    TransposeMix = 2,
}
