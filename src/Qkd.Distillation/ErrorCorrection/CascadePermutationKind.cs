namespace Qkd.Distillation.ErrorCorrection;

/// <summary>
/// How the orders of the growing passes are built (part of what both ends must agree on). The final passes always
/// read a uniformly random half of the frame first (see <see cref="CascadeOptions.ConfirmingPassCount"/>).
/// </summary>
public enum CascadePermutationKind
{
    /// <summary>
    /// Two word-parallel rounds of word shuffle, rotation and bit-matrix transpose: several times faster than a
    /// uniform shuffle and, in measurements, as good for Cascade (same efficiency, same failure rate). Frames
    /// shorter than 4096 bits are shuffled instead.
    /// </summary>
    TransposeMix = 0,

    /// <summary>Uniformly random (Fisher-Yates) with explicit index tables: exact, slower on long frames.</summary>
    Shuffle = 1,
}
