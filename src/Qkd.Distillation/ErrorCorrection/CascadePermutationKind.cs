namespace Qkd.Distillation.ErrorCorrection;

/// <summary>How the per-pass permutations are built (part of what both ends must agree on).</summary>
public enum CascadePermutationKind
{
    /// <summary><see cref="Shuffle"/> below <see cref="CascadeOptions.TransposeMixMinimumLength"/> bits, <see cref="TransposeMix"/> from there on.</summary>
    Auto = 0,

    /// <summary>Uniformly random (Fisher-Yates) with explicit index tables: exact, slower on long frames.</summary>
    Shuffle = 1,

    /// <summary>Two word-parallel rounds of word shuffle, rotation and bit-matrix transpose: fast on long frames.</summary>
    TransposeMix = 2,
}
