namespace Qkd.Core.Symbols;

/// <summary>
/// Bob's basis choice per pulse slot on an active receiver (the basis his modulator measures in), indexed from the
/// slot his device marks as pattern index 0. Bob's decoder looks the basis of each click up here; his detector's basis
/// modulator is fed the same choices in bulk (<see cref="FillPacked"/>). An eavesdropper who could predict them could
/// measure in Bob's basis and resend without errors, so they come from a secret source.
/// </summary>
public interface IBasisChoices
{
    /// <summary>Probability of Z per slot.</summary>
    double ProbabilityZ { get; }

    Basis BasisAt(long index);

    /// <summary>
    /// The bases of slots <c>firstIndex .. firstIndex + 8 * packed.Length - 1</c>, eight per byte, the earlier slot in
    /// the least significant bit, 1 = X: the detector's DetectorBasisData format.
    /// </summary>
    void FillPacked(long firstIndex, Span<byte> packed);
}
